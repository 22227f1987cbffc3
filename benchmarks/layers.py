"""``python -m benchmarks layers``: forward+backward of each layer against PyTorch CPU."""
from .harness import run_suite


def main(argv=()):
    run_suite("layers fwd+bwd", "layers_", list(argv))

"""``python -m benchmarks classic_cv``: each algorithm against scikit-image and OpenCV."""
from .harness import run_suite


def main(argv=()):
    run_suite("classic_cv", "cv_", list(argv))

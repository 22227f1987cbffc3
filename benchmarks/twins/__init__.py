"""PyTorch twins of the course scripts: the same model, data, schedule and seed, written with
``torch.nn``, run as ``python -m benchmarks.twins.NAME``. Each prints the metrics and wall
time that define its script's target (see the README's table); they are references, never
imported by the library."""

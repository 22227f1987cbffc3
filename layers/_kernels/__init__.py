"""Numba kernels behind the layers, one module per layer family."""

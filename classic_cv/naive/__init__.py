"""Slow, obviously-correct twins of the Numba kernels; tests hold the fast code equal to them."""

"""Register blocks of the Numba kernels: the vector width and the stack blocks."""
import numba
import numpy as np
import pytest
from numba import carray, njit

from layers._kernels import _registers as R


@pytest.mark.parametrize("name, features, expected", [
    ("generic", None, False),                     # a portable cache: no AVX-512 assumed
    ("skylake-avx512", "+avx512f,+avx2", True),
    ("haswell", "+avx2,-avx512f", False),
])
def test_vector_width_follows_numbas_target(monkeypatch, name, features, expected):
    monkeypatch.setattr(numba.config, "CPU_NAME", name)
    monkeypatch.setattr(numba.config, "CPU_FEATURES", features)
    assert R._compiles_for_avx512() is expected


def test_block_sizes():
    assert R.VECTOR_BYTES in (32, 64)
    assert R.BLOCK_BYTES == R.BLOCK_VECTORS * R.VECTOR_BYTES


@njit
def _fill_and_sum(like):
    """Writes i to element i of a register block and returns the block's length and sum."""
    n = R.block_values(like)
    block = carray(R.register_block(like), (n,))
    for i in range(n):
        block[i] = i
    total = 0.0
    for i in range(n):
        total += block[i]
    return n, total


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_register_block_holds_block_bytes(dtype):
    n, total = _fill_and_sum(np.zeros(1, dtype))
    assert n == R.BLOCK_BYTES // np.dtype(dtype).itemsize
    assert total == n * (n - 1) / 2

"""Fill Numba's on-disk cache with the fused Adam kernel: ``python -m optim.precompile``.

The companion of ``python -m layers.precompile`` (see its docstring): one
Adam and one AdamW step per float dtype, so that the first training step of a
new process loads the kernel instead of compiling it.
"""
import sys
import time

import numpy as np

from minigrad import Parameter

from .optimizers import Adam, AdamW


def precompile(dtypes=(np.float32, np.float64)):
    """Take one step of each fused optimizer per dtype; returns the seconds it took."""
    start = time.perf_counter()
    for dtype in dtypes:
        for optimizer_class in (Adam, AdamW):
            param = Parameter(np.ones(4, dtype=dtype))
            param.grad = np.ones(4, dtype=dtype)
            optimizer_class([param]).step()
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"optim: kernels compiled or loaded from cache in {precompile():.1f} s", file=sys.stderr)

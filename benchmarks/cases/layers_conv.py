"""Forward+backward of conv, pooling and upsampling layers against PyTorch CPU.

Both sides get the same arrays and the same upstream gradient and compute
the gradients of every input (data, weight, bias), through each library's
autograd entry point.
"""
import numpy as np

import minigrad as mg
from layers.conv import conv2d, conv_transpose2d
from layers.pooling import avg_pool2d, max_pool2d
from layers.upsample import upsample2d

from ..harness import Case


def _pair(name, ours_fn, torch_fn, arrays, dtype, note=""):
    """A Case timing ``fn(*inputs)`` then ``backward(dout)`` on both sides."""
    import torch

    arrays = [a.astype(dtype) for a in arrays]
    ours_in = [mg.Tensor(a, requires_grad=True) for a in arrays]
    torch_in = [torch.from_numpy(a).requires_grad_(True) for a in arrays]
    with mg.no_grad():
        out_shape = ours_fn(*ours_in).shape
    dout = np.random.default_rng(1).standard_normal(out_shape).astype(dtype)
    dout_t = torch.from_numpy(dout)

    def ours():
        for t in ours_in:
            t.grad = None
        ours_fn(*ours_in).backward(dout)

    def reference():
        for t in torch_in:
            t.grad = None
        torch_fn(*torch_in).backward(dout_t)

    return Case(f"{name} {np.dtype(dtype).name}", ours, {"torch": reference}, note)


# What bounds the conv ratio, measured single-threaded on these machines:
# the three OpenBLAS GEMMs alone take about as long as PyTorch's whole
# (oneDNN) forward+backward; im2col/col2im add ~25% on top.
_CONV_NOTE = "GEMM-bound (OpenBLAS vs oneDNN)"


def _conv_case(n, c, hw, f, k, pad, dtype):
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, c, hw, hw)), rng.standard_normal((f, c, k, k)) * 0.1,
              rng.standard_normal(f)]
    return _pair(f"conv2d {n}x{c}x{hw}x{hw} -> {f} {k}x{k} pad {pad}",
                 lambda x, w, b: conv2d(x, w, b, padding=pad),
                 lambda x, w, b: F.conv2d(x, w, b, padding=pad), arrays, dtype,
                 note=_CONV_NOTE if c * k * k >= 64 else "")


def cases(quick):
    import torch.nn.functional as F

    dtypes = (np.float32,) if quick else (np.float32, np.float64)
    rng = np.random.default_rng(0)
    out = []
    for dtype in dtypes:
        out += [
            _conv_case(50, 3, 32, 32, 7, 3, dtype),
            _conv_case(64, 64, 32, 64, 3, 1, dtype),
            _conv_case(128, 1, 28, 32, 3, 0, dtype),
            _pair("max_pool2d 2x2 128x64x32x32", lambda x: max_pool2d(x, 2),
                  lambda x: F.max_pool2d(x, 2), [rng.standard_normal((128, 64, 32, 32))], dtype),
        ]
        if quick:
            continue
        out += [
            _pair("avg_pool2d 3x3 s2 p1 128x64x32x32", lambda x: avg_pool2d(x, 3, 2, 1),
                  lambda x: F.avg_pool2d(x, 3, 2, 1), [rng.standard_normal((128, 64, 32, 32))], dtype),
            _pair("conv_transpose2d 32x64x16x16 -> 32 2x2 s2",
                  lambda x, w, b: conv_transpose2d(x, w, b, stride=2),
                  lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2),
                  [rng.standard_normal((32, 64, 16, 16)), rng.standard_normal((64, 32, 2, 2)),
                   rng.standard_normal(32)], dtype),
            _pair("upsample bilinear 2x 32x64x32x32", lambda x: upsample2d(x, 2, "bilinear"),
                  lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
                  [rng.standard_normal((32, 64, 32, 32))], dtype),
            _pair("upsample nearest 2x 32x64x32x32", lambda x: upsample2d(x, 2, "nearest"),
                  lambda x: F.interpolate(x, scale_factor=2, mode="nearest"),
                  [rng.standard_normal((32, 64, 32, 32))], dtype),
        ]
    return out

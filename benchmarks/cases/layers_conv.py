"""Forward+backward of conv, pooling and upsampling layers against PyTorch CPU.

Both sides get the same (seeded) arrays and the same upstream gradient and compute
the gradients of every input (data, weight, bias), through each library's
autograd entry point.
"""
import numpy as np

import minigrad as mg
from layers.conv import Geometry, _takes_direct, _takes_winograd, conv2d, conv_transpose2d
from layers.pooling import avg_pool2d, max_pool2d
from layers.upsample import upsample2d

from ..harness import Case, deferred


def _pair(name, ours_fn, torch_fn, make_arrays, dtype, note=""):
    """A Case timing ``fn(*inputs)`` then ``backward(dout)`` on both sides.

    ``make_arrays()`` draws the inputs from a seeded generator; each side calls it in its own
    worker, computes the output shape with its own library and draws the upstream gradient
    from another seeded generator, so both sides get identical arrays.
    """

    def arrays():
        return [a.astype(dtype) for a in make_arrays()]

    def dout_for(shape):
        return np.random.default_rng(1).standard_normal(tuple(shape)).astype(dtype)

    def ours():
        ours_in = [mg.Tensor(a, requires_grad=True) for a in arrays()]
        with mg.no_grad():
            dout = dout_for(ours_fn(*ours_in).shape)

        def run():
            for t in ours_in:
                t.grad = None
            ours_fn(*ours_in).backward(dout)

        return run

    def reference():
        import torch
        import torch.nn.functional as F

        torch_in = [torch.from_numpy(a).requires_grad_(True) for a in arrays()]
        with torch.no_grad():
            dout_t = torch.from_numpy(dout_for(torch_fn(F, *torch_in).shape))

        def run():
            for t in torch_in:
                t.grad = None
            torch_fn(F, *torch_in).backward(dout_t)

        return run

    return Case(f"{name} {np.dtype(dtype).name}", deferred(ours), {"torch": deferred(reference)},
                note)


def _randn(seed, *shapes, scales=None):
    """A factory of seeded standard-normal arrays (optionally scaled)."""
    def make():
        rng = np.random.default_rng(seed)
        out = [rng.standard_normal(s) for s in shapes]
        return [a * k for a, k in zip(out, scales)] if scales else out

    return make


# What bounds the conv ratio, measured single-threaded on these machines:
# the three OpenBLAS GEMMs alone take about as long as PyTorch's whole
# (oneDNN) forward+backward; im2col/col2im add ~25% on top.
_CONV_NOTE = "GEMM-bound (OpenBLAS vs oneDNN)"


def _conv_case(n, c, hw, f, k, pad, dtype, stride=1):
    arrays = _randn(0, (n, c, hw, hw), (f, c, k, k), (f,), scales=(1, 0.1, 1))
    geom = Geometry((k, k), (1, 1), (pad, pad), (1, 1), (hw, hw), (hw, hw))
    note = ("phase form" if stride > 1 else "Winograd" if _takes_winograd(1, f, c, geom)
            else "direct kernels" if _takes_direct(f, c * k * k, geom) else _CONV_NOTE if c * k * k >= 64 else "")
    return _pair(f"conv2d {n}x{c}x{hw}x{hw} -> {f} {k}x{k} pad {pad}" + (f" stride {stride}" if stride > 1 else ""),
                 lambda x, w, b: conv2d(x, w, b, stride=stride, padding=pad),
                 lambda F, x, w, b: F.conv2d(x, w, b, stride=stride, padding=pad), arrays, dtype, note=note)


def cases(quick):
    dtypes = (np.float32,) if quick else (np.float32, np.float64)
    out = []
    for dtype in dtypes:
        out += [
            _conv_case(50, 3, 32, 32, 7, 3, dtype),
            _conv_case(64, 64, 32, 64, 3, 1, dtype),
            _conv_case(128, 1, 28, 32, 3, 0, dtype),
            # Few channels on large images (the segmentation U-Net, resnet and detection
            # scripts): the direct kernels' cases.
            _conv_case(32, 1, 64, 8, 3, 1, dtype),
            _conv_case(32, 8, 64, 8, 3, 1, dtype),
            _conv_case(32, 16, 32, 16, 3, 1, dtype),
            _conv_case(64, 16, 28, 16, 3, 1, dtype),
            # The resnet script's other convolutions: 14x14 and 7x7 images, and the two with stride 2.
            _conv_case(64, 32, 14, 32, 3, 1, dtype),
            _conv_case(64, 64, 7, 64, 3, 1, dtype),
            _conv_case(64, 16, 28, 32, 3, 1, dtype, stride=2),
            _conv_case(64, 32, 14, 64, 3, 1, dtype, stride=2),
            _pair("max_pool2d 2x2 128x64x32x32", lambda x: max_pool2d(x, 2),
                  lambda F, x: F.max_pool2d(x, 2), _randn(2, (128, 64, 32, 32)), dtype),
        ]
        if quick:
            continue
        out += [
            _pair("avg_pool2d 3x3 s2 p1 128x64x32x32", lambda x: avg_pool2d(x, 3, 2, 1),
                  lambda F, x: F.avg_pool2d(x, 3, 2, 1), _randn(3, (128, 64, 32, 32)), dtype),
            _pair("conv_transpose2d 32x64x16x16 -> 32 2x2 s2",
                  lambda x, w, b: conv_transpose2d(x, w, b, stride=2),
                  lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2),
                  _randn(4, (32, 64, 16, 16), (64, 32, 2, 2), (32,)), dtype),
            _pair("upsample bilinear 2x 32x64x32x32", lambda x: upsample2d(x, 2, "bilinear"),
                  lambda F, x: F.interpolate(x, scale_factor=2, mode="bilinear"),
                  _randn(5, (32, 64, 32, 32)), dtype),
            _pair("upsample nearest 2x 32x64x32x32", lambda x: upsample2d(x, 2, "nearest"),
                  lambda F, x: F.interpolate(x, scale_factor=2, mode="nearest"),
                  _randn(6, (32, 64, 32, 32)), dtype),
        ]
    return out

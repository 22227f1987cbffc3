"""Dense-layer benchmarks: forward + backward of ours against PyTorch CPU.

Each call builds fresh leaf tensors on the same prepared arrays (no copies)
on both sides, runs the forward and backpropagates a fixed upstream gradient.
"""
import numpy as np

import minigrad as mg
from layers import activations, affine, dropout, embedding, losses, norm

from ..harness import Case


def _ours(fn, arrays, dout, grad_mask):
    def run():
        leaves = [mg.Tensor(a, requires_grad=g) for a, g in zip(arrays, grad_mask)]
        fn(*leaves).backward(dout)

    return run


def _torch(torch, fn, arrays, dout, grad_mask):
    dout_t = torch.from_numpy(np.array(dout))  # np.array keeps a 0-d dout 0-d

    def run():
        leaves = [torch.from_numpy(a).requires_grad_(g) for a, g in zip(arrays, grad_mask)]
        fn(*leaves).backward(dout_t)

    return run


def _specs(torch, quick):
    """(name, ours_fn, torch_fn, input shapes-or-arrays factory, which inputs need grad)."""
    F = torch.nn.functional

    def rand(*shape):
        return lambda rng, dt: rng.standard_normal(shape).astype(dt)

    def labels(n, c):
        return lambda rng, dt: rng.integers(0, c, n)

    def ones(c):
        return lambda rng, dt: np.ones(c, dt)

    n_big = 32 if quick else 128
    specs = [
        ("batchnorm2d train (%d,64,32,32)" % n_big,
         lambda x, w, b: norm.batch_norm(x, w, b, training=True),
         lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         [rand(n_big, 64, 32, 32), ones(64), ones(64)], [True, True, True]),
        ("batchnorm1d train (256,1024)",
         lambda x, w, b: norm.batch_norm(x, w, b, training=True),
         lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         [rand(256, 1024), ones(1024), ones(1024)], [True, True, True]),
        ("linear (4096,512)->512",
         affine.linear, F.linear,
         [rand(4096, 512), rand(512, 512), rand(512)], [True, True, True]),
        ("cross_entropy (1024,1000)",
         lambda x, y: losses.cross_entropy(x, y.data),
         lambda x, y: F.cross_entropy(x, y),
         [rand(1024, 1000), labels(1024, 1000)], [True, False]),
        ("layernorm (32,64,512)",
         lambda x, w, b: norm.layer_norm(x, 512, w, b),
         lambda x, w, b: F.layer_norm(x, (512,), w, b),
         [rand(32, 64, 512), ones(512), ones(512)], [True, True, True]),
        ("groupnorm 8 groups (32,64,32,32)",
         lambda x, w, b: norm.group_norm(x, 8, w, b),
         lambda x, w, b: F.group_norm(x, 8, w, b),
         [rand(32, 64, 32, 32), ones(64), ones(64)], [True, True, True]),
        ("gelu (32,64,512)", activations.gelu, F.gelu, [rand(32, 64, 512)], [True]),
        ("relu (128,64,32,32)" if not quick else "relu (32,64,32,32)",
         activations.relu, F.relu, [rand(n_big, 64, 32, 32)], [True]),
        ("softmax (32,4,64,64)", activations.softmax, lambda x: F.softmax(x, dim=-1),
         [rand(32, 4, 64, 64)], [True]),
        ("embedding 10000x256 idx (64,128)",
         lambda w, idx: embedding.embedding(idx.data, w),
         lambda w, idx: F.embedding(idx, w),
         [rand(10000, 256), labels((64, 128), 10000)], [True, False]),
    ]
    return specs


def cases(quick):
    import torch

    out = []
    for dtype, tdtype in ((np.float32, "float32"), (np.float64, "float64")):
        for name, ours_fn, torch_fn, factories, grad_mask in _specs(torch, quick):
            rng = np.random.default_rng(0)
            arrays = [f(rng, dtype) for f in factories]
            with mg.no_grad():
                shape = ours_fn(*[mg.Tensor(a) for a in arrays]).shape
            dout = rng.standard_normal(shape).astype(dtype) if shape else np.asarray(1.0, dtype)
            out.append(Case(
                f"{name} {tdtype}",
                _ours(ours_fn, arrays, dout, grad_mask),
                {"torch": _torch(torch, torch_fn, arrays, dout, grad_mask)},
            ))
    # Dropout draws its mask from different generators on each side: same work, not same values.
    for dtype in (np.float32, np.float64):
        x = np.random.default_rng(0).standard_normal((128, 64, 32 if not quick else 8, 32)).astype(dtype)
        gen = np.random.default_rng(1)
        out.append(Case(
            f"dropout p=0.5 {x.shape} {np.dtype(dtype).name}",
            _ours(lambda t: dropout.dropout(t, 0.5, rng=gen), [x], x, [True]),
            {"torch": _torch(torch, lambda t: torch.nn.functional.dropout(t, 0.5), [x], x, [True])},
        ))
    return out

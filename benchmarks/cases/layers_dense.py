"""Dense-layer benchmarks: forward + backward of ours against PyTorch CPU.

Each call builds fresh leaf tensors on the same prepared arrays (no copies)
on both sides, runs the forward and backpropagates a fixed upstream gradient.
"""
import numpy as np

import minigrad as mg
from layers import activations, affine, dropout, embedding, losses, norm

from ..harness import Case, deferred


def _sides(ours_fn, torch_fn, make_arrays, make_dout, grad_mask):
    """Deferred fwd+bwd callables for both sides. ``make_arrays()`` draws the inputs from a
    seeded generator and ``make_dout(shape)`` the upstream gradient, in each side's own worker
    (the output shape comes from that side's library), so both sides get identical arrays."""

    def ours():
        arrays = make_arrays()
        with mg.no_grad():
            dout = make_dout(ours_fn(*[mg.Tensor(a) for a in arrays]).shape)

        def run():
            leaves = [mg.Tensor(a, requires_grad=g) for a, g in zip(arrays, grad_mask)]
            ours_fn(*leaves).backward(dout)

        return run

    def reference():
        import torch
        import torch.nn.functional as F

        arrays = make_arrays()
        with torch.no_grad():
            shape = tuple(torch_fn(F, *[torch.from_numpy(a) for a in arrays]).shape)
        dout_t = torch.from_numpy(np.array(make_dout(shape)))  # np.array keeps a 0-d dout 0-d

        def run():
            leaves = [torch.from_numpy(a).requires_grad_(g) for a, g in zip(arrays, grad_mask)]
            torch_fn(F, *leaves).backward(dout_t)

        return run

    return deferred(ours), {"torch": deferred(reference)}


def _specs(quick):
    """(name, ours_fn, torch_fn(F, *inputs), input array factories, which inputs need grad)."""
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
         lambda F, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         [rand(n_big, 64, 32, 32), ones(64), ones(64)], [True, True, True]),
        ("batchnorm1d train (256,1024)",
         lambda x, w, b: norm.batch_norm(x, w, b, training=True),
         lambda F, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         [rand(256, 1024), ones(1024), ones(1024)], [True, True, True]),
        ("linear (4096,512)->512",
         affine.linear, lambda F, x, w, b: F.linear(x, w, b),
         [rand(4096, 512), rand(512, 512), rand(512)], [True, True, True]),
        ("cross_entropy (1024,1000)",
         lambda x, y: losses.cross_entropy(x, y.data),
         lambda F, x, y: F.cross_entropy(x, y),
         [rand(1024, 1000), labels(1024, 1000)], [True, False]),
        ("layernorm (32,64,512)",
         lambda x, w, b: norm.layer_norm(x, 512, w, b),
         lambda F, x, w, b: F.layer_norm(x, (512,), w, b),
         [rand(32, 64, 512), ones(512), ones(512)], [True, True, True]),
        ("groupnorm 8 groups (32,64,32,32)",
         lambda x, w, b: norm.group_norm(x, 8, w, b),
         lambda F, x, w, b: F.group_norm(x, 8, w, b),
         [rand(32, 64, 32, 32), ones(64), ones(64)], [True, True, True]),
        ("gelu (32,64,512)", activations.gelu, lambda F, x: F.gelu(x), [rand(32, 64, 512)], [True]),
        ("relu (128,64,32,32)" if not quick else "relu (32,64,32,32)",
         activations.relu, lambda F, x: F.relu(x), [rand(n_big, 64, 32, 32)], [True]),
        ("softmax (32,4,64,64)", activations.softmax, lambda F, x: F.softmax(x, dim=-1),
         [rand(32, 4, 64, 64)], [True]),
        ("embedding 10000x256 idx (64,128)",
         lambda w, idx: embedding.embedding(idx.data, w),
         lambda F, w, idx: F.embedding(idx, w),
         [rand(10000, 256), labels((64, 128), 10000)], [True, False]),
    ]
    return specs


def _seeded(factories, dtype):
    def make_arrays():
        rng = np.random.default_rng(0)
        return [f(rng, dtype) for f in factories]

    def make_dout(shape):
        # The inputs' generator continued, as when one generator drew everything.
        rng = np.random.default_rng(0)
        for f in factories:
            f(rng, dtype)
        return rng.standard_normal(shape).astype(dtype) if shape else np.asarray(1.0, dtype)

    return make_arrays, make_dout


def cases(quick):
    out = []
    for dtype, tdtype in ((np.float32, "float32"), (np.float64, "float64")):
        for name, ours_fn, torch_fn, factories, grad_mask in _specs(quick):
            ours, refs = _sides(ours_fn, torch_fn, *_seeded(factories, dtype), grad_mask)
            out.append(Case(f"{name} {tdtype}", ours, refs))
    # Dropout draws its mask from different generators on each side: same work, not same values.
    for dtype in (np.float32, np.float64):
        shape = (128, 64, 32 if not quick else 8, 32)

        def make_x(shape=shape, dtype=dtype):
            return [np.random.default_rng(0).standard_normal(shape).astype(dtype)]

        def ours_dropout(t, gen=np.random.default_rng(1)):
            return dropout.dropout(t, 0.5, rng=gen)

        ours, refs = _sides(ours_dropout, lambda F, t: F.dropout(t, 0.5), make_x,
                            lambda shape, make_x=make_x: make_x()[0], [True])
        out.append(Case(f"dropout p=0.5 {shape} {np.dtype(dtype).name}", ours, refs))
    return out

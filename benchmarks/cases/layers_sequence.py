"""Sequence-layer benchmarks: recurrent and attention layers, forward + backward,
ours against the PyTorch module holding the same parameters.

Every call builds a fresh leaf for the input on both sides (gradients of the
input and of every parameter are computed), runs the forward and
backpropagates a fixed upstream gradient of the main output. Each side is
built in its own worker: inputs, upstream gradients and parameters come from
seeded NumPy generators (``_seeded_state``), so both modules hold the same
values without either side touching the other library.
"""
import numpy as np

import minigrad as mg
from layers import attention, recurrent

from ..harness import Case, deferred


def _seeded_state(shapes, dtype, seed=0):
    """``{name: array}`` for ``{name: shape}``: uniform in +-1/sqrt(fan-in), drawn in sorted
    name order from one seeded generator, so that both sides get identical values."""
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(-1, 1, shapes[name]).astype(dtype) / np.sqrt(shapes[name][-1])
            for name in sorted(shapes)}


def _sides(make_ours, make_torch, x_shape, dout_shape, dtype):
    """Deferred fwd+bwd callables for both modules (or module calls) on the same seeded arrays.
    Parameter gradients accumulate across calls on both sides alike."""

    def arrays():
        rng = np.random.default_rng(0)
        return (rng.standard_normal(x_shape).astype(dtype),
                rng.standard_normal(dout_shape).astype(dtype))

    def ours():
        module, call = make_ours()
        module.load_state_dict(_seeded_state({k: v.shape for k, v in module.state_dict().items()},
                                             dtype))
        x, dout = arrays()

        def run():
            call(mg.Tensor(x, requires_grad=True))[0].backward(dout)

        return run

    def reference():
        import torch

        module, call = make_torch(torch)
        state = _seeded_state({k: tuple(v.shape) for k, v in module.state_dict().items()}, dtype)
        module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        x, dout = arrays()
        dout_t = torch.from_numpy(dout)

        def run():
            call(torch.from_numpy(x).requires_grad_(True))[0].backward(dout_t)

        return run

    return deferred(ours), {"torch": deferred(reference)}


def _recurrent_cases():
    shapes = [(64, 28, 28, 128), (32, 100, 64, 256)]
    out = []
    for kind, ours_cls, torch_name in (("lstm", recurrent.LSTM, "LSTM"),
                                       ("gru", recurrent.GRU, "GRU")):
        for (n, t, d, h) in shapes if kind == "lstm" else shapes[:1]:
            for dtype in (np.float32, np.float64):
                def make_ours(cls=ours_cls, d=d, h=h, dtype=dtype):
                    module = cls(d, h, dtype=dtype)
                    return module, module

                def make_torch(torch, name=torch_name, d=d, h=h, dtype=dtype):
                    module = getattr(torch.nn, name)(d, h, batch_first=True,
                                                     dtype=getattr(torch, np.dtype(dtype).name))
                    return module, module

                ours, refs = _sides(make_ours, make_torch, (n, t, d), (n, t, h), dtype)
                name = f"{kind} N={n} T={t} D={d} H={h} {np.dtype(dtype).name}"
                out.append(Case(name, ours, refs))
    return out


def _attention_cases():
    """Self-attention (query = key = value), no weights returned, as inside a transformer."""
    out = []
    for (n, t, e, heads) in [(32, 64, 128, 4), (8, 256, 256, 8)]:
        for dtype in (np.float32, np.float64):
            def make_ours(e=e, heads=heads, dtype=dtype):
                module = attention.MultiheadAttention(e, heads, dtype=dtype)
                return module, lambda x: module(x, x, x, need_weights=False)

            def make_torch(torch, e=e, heads=heads, dtype=dtype):
                module = torch.nn.MultiheadAttention(e, heads, batch_first=True,
                                                     dtype=getattr(torch, np.dtype(dtype).name))
                return module, lambda x: module(x, x, x, need_weights=False)

            ours, refs = _sides(make_ours, make_torch, (n, t, e), (n, t, e), dtype)
            name = f"self-attention N={n} T={t} E={e} heads={heads} {np.dtype(dtype).name}"
            out.append(Case(name, ours, refs))
    return out


def cases(quick):
    # The shapes are modest, so ``quick`` (fewer repeats, set by the
    # harness) changes nothing here.
    return _recurrent_cases() + _attention_cases()

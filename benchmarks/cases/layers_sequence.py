"""Sequence-layer benchmarks: recurrent and attention layers, forward + backward,
ours against the PyTorch module holding the same parameters.

Every call builds a fresh leaf for the input on both sides (gradients of the
input and of every parameter are computed), runs the forward and
backpropagates a fixed upstream gradient of the main output.
"""
import numpy as np

import minigrad as mg
from layers import attention, recurrent

from ..harness import Case


def _copy_params(ours, theirs):
    """Load the torch module's parameters into ours (same names and layouts)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _pair(ours, theirs, torch, inputs, dout):
    """Zero-argument fwd+bwd callables for both modules (or module calls) on the
    same arrays. Parameter gradients accumulate across calls on both sides alike."""
    dout_t = torch.from_numpy(dout)

    def run_ours():
        leaves = [mg.Tensor(a, requires_grad=True) for a in inputs]
        ours(*leaves)[0].backward(dout)

    def run_torch():
        leaves = [torch.from_numpy(a).requires_grad_(True) for a in inputs]
        theirs(*leaves)[0].backward(dout_t)

    return run_ours, run_torch


_F32_GATES_NOTE = "gate math in float64 lanes even for float32 data (torch: float32 SIMD)"


def _recurrent_cases(torch):
    shapes = [(64, 28, 28, 128), (32, 100, 64, 256)]
    out = []
    for kind, ours_cls, torch_cls in (("lstm", recurrent.LSTM, torch.nn.LSTM),
                                      ("gru", recurrent.GRU, torch.nn.GRU)):
        for (n, t, d, h) in shapes if kind == "lstm" else shapes[:1]:
            for dtype in (np.float32, np.float64):
                rng = np.random.default_rng(0)
                theirs = torch_cls(d, h, batch_first=True, dtype=getattr(torch, np.dtype(dtype).name))
                ours = ours_cls(d, h, dtype=dtype)
                _copy_params(ours, theirs)
                x = rng.standard_normal((n, t, d)).astype(dtype)
                dout = rng.standard_normal((n, t, h)).astype(dtype)
                run_ours, run_torch = _pair(ours, theirs, torch, [x], dout)
                name = f"{kind} N={n} T={t} D={d} H={h} {np.dtype(dtype).name}"
                note = _F32_GATES_NOTE if kind == "lstm" and dtype == np.float32 else ""
                out.append(Case(name, run_ours, {"torch": run_torch}, note))
    return out


def _attention_cases(torch):
    """Self-attention (query = key = value), no weights returned, as inside a transformer."""
    out = []
    for (n, t, e, heads) in [(32, 64, 128, 4), (8, 256, 256, 8)]:
        for dtype in (np.float32, np.float64):
            rng = np.random.default_rng(0)
            theirs = torch.nn.MultiheadAttention(e, heads, batch_first=True,
                                                 dtype=getattr(torch, np.dtype(dtype).name))
            ours = attention.MultiheadAttention(e, heads, dtype=dtype)
            _copy_params(ours, theirs)
            x = rng.standard_normal((n, t, e)).astype(dtype)
            dout = rng.standard_normal((n, t, e)).astype(dtype)
            run_ours, run_torch = _pair(
                lambda x, m=ours: m(x, x, x, need_weights=False),
                lambda x, m=theirs: m(x, x, x, need_weights=False),
                torch, [x], dout,
            )
            name = f"self-attention N={n} T={t} E={e} heads={heads} {np.dtype(dtype).name}"
            out.append(Case(name, run_ours, {"torch": run_torch}))
    return out


def cases(quick):
    import torch

    # The shapes are modest, so ``quick`` (fewer repeats, set by the
    # harness) changes nothing here.
    return _recurrent_cases(torch) + _attention_cases(torch)

"""Winograd's F(2x2, 3x3) convolution: its kernels against the naive twins, the layer through it
against the direct kernels, gradcheck and PyTorch, and which convolutions take it."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from layers import _blas
from layers import conv as C
from layers._kernels import winograd as W
from layers.naive import conv as naive
from tests.conftest import assert_close, split_every_call

TOL = {np.float32: 1e-5, np.float64: 1e-12}  # max abs difference, relative to the largest value


def _scaled(reference, dtype):
    return TOL[dtype] * max(1.0, np.abs(reference).max())


@st.composite
def winograd_configs(draw, max_channels=6):
    """A 3x3 stride-1 conv2d of any padding from 0 to 2 per axis, on images from the smallest
    with one output pixel up to 13 pixels a side (odd and even, so tiles hang over the edge)."""
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    h, w = (3 - 2 * p + draw(st.integers(0, 10)) for p in padding)
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, max_channels)), max(1, h), max(1, w))
    return dict(x=shape, w=(draw(st.integers(1, max_channels)), shape[1], 3, 3), padding=padding,
                dtype=draw(st.sampled_from([np.float32, np.float64])), chunk=draw(st.integers(1, 3)))


def _arrays(cfg, seed):
    rng = np.random.default_rng(seed)
    x, w = (rng.standard_normal(s).astype(cfg["dtype"]) for s in (cfg["x"], cfg["w"]))
    out_hw = tuple(s + 2 * p - 2 for s, p in zip(cfg["x"][2:], cfg["padding"]))
    dout = rng.standard_normal((cfg["x"][0], cfg["w"][0], *out_hw)).astype(cfg["dtype"])
    return x, w, rng.standard_normal(cfg["w"][0]).astype(cfg["dtype"]), dout


def _work(cfg, out_hw):
    """Scratch for the kernels, filled with NaN: no result may depend on what it held."""
    size = W.scratch_size(cfg["x"][1], cfg["w"][0], *W.tiles_of(out_hw), cfg["chunk"])
    return np.full(size, np.nan, cfg["dtype"])


# ------------------------------------------------------------------- kernels vs naive
def test_naive_twin_is_the_correlation(rng):
    """The tile-by-tile twin against the plain loop correlation, on every padding."""
    for padding in [(0, 0), (1, 2), (2, 1), (2, 2)]:
        x, w, b = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
        assert_close(naive.winograd_conv2d(x, w, b, padding), naive.conv2d(x, w, b, (1, 1), padding, (1, 1), 1),
                     1e-12, f"padding {padding}")


@settings(max_examples=60, deadline=None)
@given(cfg=winograd_configs())
def test_kernels_match_naive(cfg):
    """The forward against both twins; the weight gradient, through ``G^T du G``, against the
    loop one. Every output value must be written (NaN before), whatever the scratch held."""
    x, w, b, dout = _arrays(cfg, 0)
    expected = naive.conv2d(x, w, b, (1, 1), cfg["padding"], (1, 1), 1)
    out = np.full(expected.shape, np.nan, cfg["dtype"])
    W.winograd_correlate(x, C._winograd_weight(w), b, out, *cfg["padding"], cfg["chunk"],
                         _work(cfg, expected.shape[2:]))
    assert out.dtype == cfg["dtype"]
    assert_close(out, expected, _scaled(expected, cfg["dtype"]), "forward vs naive")
    assert_close(out, naive.winograd_conv2d(x, w, b, cfg["padding"]), _scaled(expected, cfg["dtype"]),
                 "forward vs naive Winograd")

    _, dw_expected, _ = naive.conv2d_backward(dout, x, w, (1, 1), cfg["padding"], (1, 1), 1)
    du = W.winograd_weight_grad(x, dout, *cfg["padding"], cfg["chunk"], _work(cfg, expected.shape[2:]))
    assert du.dtype == np.float64
    assert_close(C._winograd_weight_grad(du), dw_expected, _scaled(dw_expected, cfg["dtype"]), "weight gradient")


def test_weight_transforms_are_adjoint(rng):
    """``_winograd_weight_grad`` is the adjoint of ``_winograd_weight``: <T w, u> = <w, T* u>,
    and ``flipped`` transforms the flipped, channel-swapped kernel."""
    w, du = rng.standard_normal((5, 3, 3, 3)), rng.standard_normal((16, 3, 5))
    assert np.isclose(np.sum(C._winograd_weight(w) * du), np.sum(w * C._winograd_weight_grad(du)), rtol=1e-12)
    flipped = np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    assert_close(C._winograd_weight(w, flipped=True), C._winograd_weight(flipped), 1e-14, "flipped")


# ------------------------------------------------ the layer through Winograd, any channels
def _pair(x, w, b, dout, padding):
    out, cache = C.conv2d_forward(x, w, b, 1, padding)
    return (out, *C.conv2d_backward(dout, cache))


@settings(max_examples=40, deadline=None)
@given(cfg=winograd_configs(), split=st.booleans())
def test_layer_matches_naive_and_direct(cfg, split):
    """With every 3x3 stride-1 convolution sent to Winograd (the threshold at one channel), the
    forward, the input gradient (a Winograd correlation padded by 2 - padding) and the weight
    gradient equal the naive twins and the direct kernels, in one thread or split over the batch."""
    x, w, b, dout = _arrays(cfg, 1)
    args = ((1, 1), cfg["padding"], (1, 1), 1)
    expected = (naive.conv2d(x, w, b, *args), *naive.conv2d_backward(dout, x, w, *args))
    calls = []
    with split_every_call(split), pytest.MonkeyPatch.context() as patch:
        patch.setattr(C, "WINOGRAD_MIN_CHANNELS", 1)
        patch.setattr(C, "winograd_correlate", lambda *a: calls.append(1) or W.winograd_correlate(*a))
        winograd = _pair(x, w, b, dout, cfg["padding"])
        assert calls, "the forward and the input gradient must take Winograd"
        patch.setattr(C, "WINOGRAD_MIN_CHANNELS", 1 << 30)
        calls.clear()
        direct = _pair(x, w, b, dout, cfg["padding"])
        assert not calls
    for name, got, other, want in zip(("out", "dx", "dw", "db"), winograd, direct, expected):
        assert got.dtype == cfg["dtype"]
        assert_close(got, want, _scaled(want, cfg["dtype"]), f"Winograd {name} vs naive")
        assert_close(got, other, _scaled(want, cfg["dtype"]), f"Winograd {name} vs direct")


@settings(max_examples=10, deadline=None)
@given(cfg=winograd_configs(max_channels=3), bias=st.booleans())
def test_gradcheck_through_winograd(cfg, bias):
    cfg = dict(cfg, dtype=np.float64)
    x, w, b, _ = _arrays(cfg, 2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(C, "WINOGRAD_MIN_CHANNELS", 1)
        inputs = [mg.Tensor(a, requires_grad=True) for a in ((x, w, b) if bias else (x, w))]
        mg.gradcheck(lambda *t: C.conv2d(*t, padding=cfg["padding"]), *inputs)


def test_conv_transpose2d_stride_1_through_winograd(rng, monkeypatch):
    """A 3x3 stride-1 transposed convolution is an input gradient: its forward and its input
    gradient take Winograd too."""
    calls = []
    monkeypatch.setattr(C, "winograd_correlate", lambda *a: calls.append(1) or W.winograd_correlate(*a))
    x, w, b = rng.standard_normal((2, 32, 5, 6)), rng.standard_normal((32, 40, 3, 3)), rng.standard_normal(40)
    args = ((1, 1), (1, 1), (0, 0), (1, 1), 1)
    out, cache = C.conv_transpose2d_forward(x, w, b, *args)
    assert_close(out, naive.conv_transpose2d(x, w, b, *args), 1e-11, "forward")
    C.conv_transpose2d_backward(np.ones_like(out), cache)
    assert len(calls) == 2


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-4), (np.float64, 1e-10)])
def test_default_path_matches_torch(torch, rng, dtype, tol):
    """64 -> 48 channels on 9x10 images take Winograd by default; forward and every gradient
    against PyTorch's."""
    geom = C.Geometry((3, 3), (1, 1), (1, 1), (1, 1), (9, 10), (9, 10))
    assert C._takes_winograd(1, 48, 64, geom)
    x = rng.standard_normal((3, 64, 9, 10)).astype(dtype)
    w = (0.1 * rng.standard_normal((48, 64, 3, 3))).astype(dtype)
    b = rng.standard_normal(48).astype(dtype)
    tensors = [mg.Tensor(a, requires_grad=True) for a in (x, w, b)]
    out = C.conv2d(*tensors, padding=1)
    dout = rng.standard_normal(out.shape).astype(dtype)
    out.backward(dout)
    refs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ref = torch.nn.functional.conv2d(*refs, padding=1)
    ref.backward(torch.tensor(dout))
    for name, got, want in [("out", out.data, ref.detach())] + [
            (n, t.grad, r.grad) for n, t, r in zip(("dx", "dw", "db"), tensors, refs)]:
        want = want.numpy()
        assert got.dtype == dtype
        assert_close(got, want, tol * max(1.0, np.abs(want).max()), name)


# ------------------------------------------------------------------------------ dispatch
@pytest.mark.parametrize("kernel, stride, padding, dilation, groups, channels, filters, winograd", [
    ((3, 3), 1, 1, 1, 1, 32, 32, True),
    ((3, 3), 1, 0, 1, 1, 64, 128, True),
    ((3, 3), 1, 2, 1, 1, 128, 64, True),
    ((3, 3), 1, 1, 1, 1, 16, 64, False),     # few channels: the transforms cost more than they save
    ((3, 3), 1, 1, 1, 1, 64, 16, False),
    ((3, 3), 1, 3, 1, 1, 64, 64, False),     # padding 3: the input gradient's would be -1
    ((3, 3), 2, 1, 1, 1, 64, 64, False),     # strided
    ((3, 3), 1, 1, 2, 1, 64, 64, False),     # dilated
    ((3, 3), 1, 1, 1, 2, 64, 64, False),     # grouped
    ((5, 5), 1, 2, 1, 1, 64, 64, False),
    ((1, 1), 1, 0, 1, 1, 64, 64, False),
])
def test_dispatch(kernel, stride, padding, dilation, groups, channels, filters, winograd):
    geom = C.Geometry(kernel, (stride,) * 2, (padding,) * 2, (dilation,) * 2, (16, 16), (16, 16))
    assert C._takes_winograd(groups, filters, channels, geom) is winograd


# ------------------------------------------------------------------------------ BLAS threads
@pytest.mark.skipif(_blas._openblas_threads("scipy") is None, reason="SciPy is not linked to OpenBLAS")
def test_kernels_blas_runs_on_one_thread_inside_and_is_restored():
    """The BLAS the kernels' np.dot calls (SciPy's) is set to one thread for the length of a
    split call, and restored after."""
    get, _ = _blas._openblas_threads("scipy")
    before = get()
    with _blas._one_blas_thread("scipy"):
        assert get() == 1
    assert get() == before

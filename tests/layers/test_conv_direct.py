"""The direct convolution kernels: against the naive twins, the im2col path and PyTorch, and their dispatch."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
from layers import conv as C
from layers._kernels import conv as K
from layers.naive import conv as naive
from tests.conftest import assert_close, split_every_call

_correlate_grads_columns = C._correlate_grads_columns

TOL = {np.float32: 1e-4, np.float64: 1e-11}  # max abs difference, relative to the largest value
WEIGHT_GRADS = [K.correlate_direct_weight_grad, K.correlate_direct_weight_grad_outer]


@st.composite
def direct_configs(draw):
    """A stride-1, ungrouped conv2d the direct kernels take: shapes, padding (up to past the
    kernel's reach, which crops the input gradient's correlation) and dilation."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 4)), draw(st.integers(0, 4)))
    spans = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    h = max(1, spans[0] - 2 * padding[0]) + draw(st.integers(0, 6))
    w = max(1, spans[1] - 2 * padding[1]) + draw(st.integers(0, 6))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 6)), h, w)
    return dict(x=shape, w=(draw(st.integers(1, 6)), shape[1], kh, kw), padding=padding, dilation=dilation,
                dtype=draw(st.sampled_from([np.float32, np.float64])))


def _arrays(cfg, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(cfg["dtype"]) for s in (cfg["x"], cfg["w"], cfg["w"][:1])]


def _scaled(reference, dtype):
    return TOL[dtype] * max(1.0, np.abs(reference).max())


def _pair(x, w, b, dout, cfg):
    out, cache = C.conv2d_forward(x, w, b, 1, cfg["padding"], cfg["dilation"], 1)
    return (out, *C.conv2d_backward(dout, cache))


# ------------------------------------------------------------------- kernels vs naive
@settings(max_examples=60)
@given(cfg=direct_configs(), keep=st.sampled_from([1.0, 0.6, 0.0]))
def test_kernels_match_naive(cfg, keep):
    """The forward and both weight-gradient kernels against the loop twins, with every tap live
    or only some (``keep`` of them, the others zero in the weights and in the weight gradient)."""
    x, w, b = _arrays(cfg, 0)
    live = np.flatnonzero(np.random.default_rng(2).random(w[0].size) < keep)
    dead = np.setdiff1d(np.arange(w[0].size), live)
    w_live = w.reshape(len(w), -1).copy()
    w_live[:, dead] = 0
    w_live = w_live.reshape(w.shape)
    args = ((1, 1), cfg["padding"], cfg["dilation"], 1)
    expected = naive.conv2d(x, w_live, b, *args)
    out = np.full(expected.shape, np.nan, cfg["dtype"])  # every output value must be written
    K.correlate_direct(x, w, b, out, 1, 1, *cfg["padding"], *cfg["dilation"], live)  # dead taps of w unread
    assert out.dtype == cfg["dtype"]
    assert_close(out, expected, _scaled(expected, cfg["dtype"]), "forward")

    dout = np.random.default_rng(1).standard_normal(out.shape).astype(cfg["dtype"])
    _, dw_expected, _ = naive.conv2d_backward(dout, x, w, *args)
    dw_expected.reshape(len(w), -1)[:, dead] = 0
    for kernel in WEIGHT_GRADS:
        dw = kernel(x, dout, *cfg["w"][2:], 1, 1, *cfg["padding"], *cfg["dilation"], live)
        assert dw.dtype == np.float64
        assert_close(dw, dw_expected, _scaled(dw_expected, cfg["dtype"]), f"weight gradient ({kernel.__name__})")


@settings(max_examples=25)
@given(batch=st.integers(2, 7), size=st.integers(9, 26), channels=st.integers(1, 3), filters=st.integers(1, 5),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_weight_grad_sums_groups_of_images(batch, size, channels, filters, dtype):
    """Images of 9x9 to 26x26 make the weight gradient's groups (``_GROUP_VALUES`` padded
    pixels) hold 1 to 9 images, so the batch ends in a full or a partial group."""
    rng = np.random.default_rng(size)
    x = rng.standard_normal((batch, channels, size, size)).astype(dtype)
    w = rng.standard_normal((filters, channels, 3, 3)).astype(dtype)
    args = ((1, 1), (1, 1), (1, 1), 1)
    dout = rng.standard_normal((batch, filters, size, size)).astype(dtype)
    _, expected, _ = naive.conv2d_backward(dout, x, w, *args)
    for kernel in WEIGHT_GRADS:
        dw = kernel(x, dout, 3, 3, 1, 1, 1, 1, 1, 1, np.arange(channels * 9))
        assert_close(dw, expected, _scaled(expected, dtype), f"weight gradient ({kernel.__name__})")


@settings(max_examples=20)
@given(filters=st.integers(1, 40), channels=st.integers(1, 5), dtype=st.sampled_from([np.float32, np.float64]))
def test_outer_weight_grad_pads_filters_and_taps(filters, channels, dtype):
    """Filter counts on both sides of whole vectors (16 float32 lanes with AVX-512, 8 with
    AVX2; 8 and 4 in float64) and tap counts on both sides of whole blocks of OUTER_TAPS."""
    rng = np.random.default_rng(filters * 8 + channels)
    x = rng.standard_normal((3, channels, 6, 5)).astype(dtype)
    dout = rng.standard_normal((3, filters, 6, 5)).astype(dtype)
    _, expected, _ = naive.conv2d_backward(dout, x, np.zeros((filters, channels, 3, 3), dtype), (1, 1), (1, 1),
                                           (1, 1), 1)
    dw = K.correlate_direct_weight_grad_outer(x, dout, 3, 3, 1, 1, 1, 1, 1, 1, np.arange(channels * 9))
    assert_close(dw, expected, _scaled(expected, dtype), "weight gradient")


# --------------------------------------------------------- the pair: direct == im2col == naive
@settings(max_examples=60)
@given(cfg=direct_configs())
def test_direct_pair_matches_im2col_and_naive(cfg):
    x, w, b = _arrays(cfg, 2)
    args = ((1, 1), cfg["padding"], cfg["dilation"], 1)
    dout = np.random.default_rng(3).standard_normal(naive.conv2d(x, w, b, *args).shape).astype(cfg["dtype"])
    expected = (naive.conv2d(x, w, b, *args), *naive.conv2d_backward(dout, x, w, *args))
    calls = []
    with pytest.MonkeyPatch.context() as patch:  # function-scoped fixtures are not reset between examples
        patch.setattr(C, "correlate_direct", lambda *a: calls.append(a[0].shape) or K.correlate_direct(*a))
        direct = _pair(x, w, b, dout, cfg)
        assert len(calls) == 2, "the forward and the input gradient must both take the direct kernel"
        patch.setattr(C, "_takes_direct", lambda *a: False)
        im2col = _pair(x, w, b, dout, cfg)
        assert len(calls) == 2, "with _takes_direct False nothing may take the direct kernel"
    for name, got, other, want in zip(("out", "dx", "dw", "db"), direct, im2col, expected):
        assert got.dtype == cfg["dtype"]
        assert_close(got, want, _scaled(want, cfg["dtype"]), f"direct {name} vs naive")
        assert_close(got, other, _scaled(want, cfg["dtype"]), f"direct {name} vs im2col")


# ------------------------------------------------------------------------------ dispatch
@pytest.mark.parametrize("weight, stride, groups, size, direct", [
    ((8, 8, 3, 3), 1, 1, 16, True),
    ((16, 1, 3, 3), 1, 1, 16, True),       # the input gradient's taps count too: 16 * 9
    ((32, 32, 3, 3), 1, 1, 8, True),       # 288 taps both ways
    ((64, 64, 3, 3), 1, 1, 7, True),       # 576 taps both ways, at any size
    ((64, 64, 3, 3), 1, 1, 32, True),
    ((16, 96, 3, 3), 1, 1, 28, True),      # 864 taps into 16 filters
    ((32, 128, 3, 3), 1, 1, 7, True),      # 1152 taps one way, 288 the other
    ((96, 96, 3, 3), 1, 1, 8, False),      # more than 288 taps both ways, 864 the thicker
    ((128, 64, 3, 3), 1, 1, 64, False),
    ((64, 64, 1, 1), 1, 1, 4, True),
    ((8, 8, 3, 3), 2, 1, 16, False),       # strided: im2col
    ((8, 4, 3, 3), 1, 2, 16, False),       # grouped: im2col
])
def test_dispatch(weight, stride, groups, size, direct):
    f, cg, kh, kw = weight
    geom = C.Geometry((kh, kw), (stride, stride), (1, 1), (1, 1), (size, size), (size, size))
    assert C._is_direct(np.zeros((groups, f // groups, cg * kh * kw)), geom) is direct


@pytest.mark.parametrize("filters, channels, size, wide, outer", [
    (64, 64, 7, True, True),      # whole vectors and blocks
    (64, 64, 7, False, True),     # 256-bit vectors: 49 of 81 padded pixels are output
    (16, 16, 28, True, True),     # 784 of 900 padded pixels are output
    (16, 16, 28, False, False),   # 256-bit vectors
    (32, 16, 32, True, False),    # 1024 of 1156: the other kernel wastes little
    (16, 8, 64, True, False),     # 4096 of 4356
    (8, 8, 64, True, False),      # float32 filters padded to 16 lanes: twice the work
    (16, 1, 28, True, False),     # 9 taps padded to 16
    (16, 12, 14, True, True),     # 108 taps padded to 112: 4 %
])
def test_outer_weight_grad_dispatch(monkeypatch, filters, channels, size, wide, outer):
    monkeypatch.setattr(C, "VECTOR_BYTES", 64 if wide else 32)
    geom = C.Geometry((3, 3), (1, 1), (1, 1), (1, 1), (size, size), (size, size))
    assert C._outer_pays(filters, channels * 9, geom, 4) is outer


def test_conv_transpose_stride_1_takes_direct_kernels(rng, monkeypatch):
    calls = []
    monkeypatch.setattr(C, "correlate_direct", lambda *a: calls.append(1) or K.correlate_direct(*a))
    x, w, b = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((3, 4, 3, 2)), rng.standard_normal(4)
    args = ((1, 1), (1, 0), (0, 0), (2, 1), 1)
    out, cache = C.conv_transpose2d_forward(x, w, b, *args)
    assert_close(out, naive.conv_transpose2d(x, w, b, *args), 1e-12, "forward")
    dx, dw, _ = C.conv_transpose2d_backward(np.ones_like(out), cache)
    monkeypatch.setattr(C, "_takes_direct", lambda *a: False)
    out2, cache2 = C.conv_transpose2d_forward(x, w, b, *args)
    dx2, dw2, _ = C.conv_transpose2d_backward(np.ones_like(out), cache2)
    assert len(calls) == 2
    for got, want, name in ((out, out2, "out"), (dx, dx2, "dx"), (dw, dw2, "dw")):
        assert_close(got, want, 1e-12, name)


# ------------------------------------------------------------------------------ accuracy
def test_float32_weight_gradient_accuracy(rng):
    """A float32 weight gradient summed over 32 images of 64x64 (131072 products per entry)
    stays within 1e-5 of the float64 result, relative to its largest entry."""
    x = rng.standard_normal((32, 4, 64, 64))
    dout = rng.standard_normal((32, 8, 64, 64))
    every = np.arange(4 * 3 * 3)
    for kernel in WEIGHT_GRADS:
        exact = kernel(x, dout, 3, 3, 1, 1, 1, 1, 1, 1, every)
        single = kernel(x.astype(np.float32), dout.astype(np.float32), 3, 3, 1, 1, 1, 1, 1, 1, every)
        assert np.abs(single - exact).max() <= 1e-5 * np.abs(exact).max(), kernel.__name__


@pytest.mark.parametrize("outer", [False, True])
def test_float32_direct_matches_torch(torch, rng, monkeypatch, outer):
    """Through the layer, with either weight-gradient kernel."""
    monkeypatch.setattr(C, "_outer_pays", lambda *a: outer)
    x = rng.standard_normal((4, 8, 20, 17)).astype(np.float32)
    w = (0.2 * rng.standard_normal((16, 8, 3, 3))).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    tensors = [mg.Tensor(a, requires_grad=True) for a in (x, w, b)]
    out = C.conv2d(*tensors, padding=1)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(dout)
    refs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ref = torch.nn.functional.conv2d(*refs, padding=1)
    ref.backward(torch.tensor(dout))
    for got, want in [(out.data, ref.detach())] + [(t.grad, r.grad) for t, r in zip(tensors, refs)]:
        want = want.numpy()
        assert got.dtype == np.float32
        assert_close(got, want, 1e-4 * max(1.0, np.abs(want).max()), "float32")


# ------------------------------------------------------------------------------ threads
@settings(max_examples=25)
@given(cfg=direct_configs(), batch=st.integers(2, 5))
def test_batch_split_across_threads_matches_naive(cfg, batch):
    """With every call split over the batch (layers._parallel), the direct and the im2col paths
    (whose im2col/col2im fill slices of one column matrix) still equal the naive twins."""
    cfg = dict(cfg, x=(batch, *cfg["x"][1:]))
    x, w, b = _arrays(cfg, 4)
    args = ((1, 1), cfg["padding"], cfg["dilation"], 1)
    dout = np.random.default_rng(5).standard_normal(naive.conv2d(x, w, b, *args).shape).astype(cfg["dtype"])
    expected = (naive.conv2d(x, w, b, *args), *naive.conv2d_backward(dout, x, w, *args))
    with split_every_call(), pytest.MonkeyPatch.context() as patch:
        for engine, takes_direct in (("direct", C._takes_direct), ("im2col", lambda *a: False)):
            patch.setattr(C, "_takes_direct", takes_direct)
            for name, got, want in zip(("out", "dx", "dw", "db"), _pair(x, w, b, dout, cfg), expected):
                assert_close(got, want, _scaled(want, cfg["dtype"]), f"{name} ({engine})")


# ----------------------------------------------------------- strided, as stride 1 (phases)
@st.composite
def phase_configs(draw):
    """A strided conv2d with a kernel larger than its stride (the phase form's case), a
    multiple of it or not."""
    stride = (draw(st.integers(2, 3)), draw(st.integers(1, 3)))
    kernel = tuple(s + draw(st.integers(1, s + 1)) for s in stride)
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    h = max(1, kernel[0] - 2 * padding[0]) + draw(st.integers(0, 7))
    w = max(1, kernel[1] - 2 * padding[1]) + draw(st.integers(0, 7))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w)  # few taps: the direct kernels take it
    return dict(x=shape, w=(draw(st.integers(1, 5)), shape[1], *kernel), stride=stride, padding=padding,
                dtype=draw(st.sampled_from([np.float32, np.float64])))


@settings(max_examples=60)
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9), st.integers(1, 9)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)), padding=st.tuples(st.integers(0, 3), st.integers(0, 3)),
       extra=st.tuples(st.integers(-2, 2), st.integers(-2, 2)), dtype=st.sampled_from([np.float32, np.float64]))
def test_space_to_depth_kernels_match_naive(shape, stride, padding, extra, dtype):
    """The phase shuffles against their loop twins, with phase images that cover the padded image,
    stop short of it (rows past the last window) or reach past it; and each is the other's adjoint."""
    hw = tuple(max(1, -(-(n + 2 * p) // s) + e) for n, p, s, e in zip(shape[2:], padding, stride, extra))
    rng = np.random.default_rng(sum(shape))
    img = rng.standard_normal(shape).astype(dtype)
    phases = np.full((shape[0], shape[1] * stride[0] * stride[1], *hw), np.nan, dtype)
    K.shuffle_phases(img, phases, *stride, *padding, True)
    np.testing.assert_array_equal(phases, naive.space_to_depth(img, stride, padding, hw))
    grad = rng.standard_normal(phases.shape).astype(dtype)
    back = np.full(shape, np.nan, dtype)
    K.shuffle_phases(back, grad, *stride, *padding, False)
    np.testing.assert_array_equal(back, naive.depth_to_space(grad, stride, padding, shape))
    assert np.isclose(np.vdot(phases, grad), np.vdot(img, back), rtol=TOL[dtype] * 10)


@settings(max_examples=40)
@given(cfg=phase_configs(), op=st.tuples(st.integers(0, 2), st.integers(0, 2)), split=st.booleans(),
       phase_dx=st.booleans())
def test_strided_convolutions_through_their_phases_match_naive(cfg, op, split, phase_dx):
    """``split``: every call split over the batch in threads, the reshuffles included.
    ``phase_dx``: the image gradient (and the transposed forward) through the phases, else im2col."""
    x, w, b = _arrays(cfg, 6)
    args = (cfg["stride"], cfg["padding"], (1, 1), 1)
    out = naive.conv2d(x, w, b, *args)
    dout = np.random.default_rng(7).standard_normal(out.shape).astype(cfg["dtype"])
    expected = (out, *naive.conv2d_backward(dout, x, w, *args))
    placements, columns = set(), []  # (kernel, its sh and sw) of every direct kernel call
    with split_every_call(split), pytest.MonkeyPatch.context() as patch:
        for name in ("correlate_direct", "correlate_direct_weight_grad", "correlate_direct_weight_grad_outer"):
            patch.setattr(C, name, lambda *a, k=getattr(K, name): placements.add((k.__name__, a[4:6])) or k(*a))
        patch.setattr(C, "_phase_input_grad_pays", lambda *a: phase_dx)
        patch.setattr(C, "_correlate_grads_columns", lambda *a: columns.append(1) or _correlate_grads_columns(*a))
        got_out, cache = C.conv2d_forward(x, w, b, *args)
        got = (got_out, *C.conv2d_backward(dout, cache))
        # The forward and the weight gradient read the image through its phases.
        assert ("correlate_direct", cfg["stride"]) in placements
        assert any(name.startswith("correlate_direct_weight_grad") and strides == cfg["stride"]
                   for name, strides in placements)
        assert len(columns) == (not phase_dx), "the image gradient must take the engine asked for"
    for name, g, want in zip(("out", "dx", "dw", "db"), got, expected):
        assert g.dtype == cfg["dtype"]
        assert_close(g, want, _scaled(want, cfg["dtype"]), f"conv2d {name}")

    # The transposed convolution with the same weights (its input has the conv's output channels).
    op = tuple(min(o, s - 1) for o, s in zip(op, cfg["stride"]))
    targs = (cfg["stride"], cfg["padding"], op, (1, 1), 1)
    xt = np.random.default_rng(8).standard_normal((cfg["x"][0], cfg["w"][0], 3, 4)).astype(cfg["dtype"])
    if not all(s > 0 for s in C._transposed_out_hw(xt.shape, w.shape, cfg["stride"], cfg["padding"], op, (1, 1))):
        return
    ref = naive.conv_transpose2d(xt, w, b[:1].repeat(w.shape[1]), *targs)
    got_t, tcache = C.conv_transpose2d_forward(xt, w, b[:1].repeat(w.shape[1]), *targs)
    assert_close(got_t, ref, _scaled(ref, cfg["dtype"]), "conv_transpose2d out")
    dref = np.random.default_rng(9).standard_normal(ref.shape).astype(cfg["dtype"])
    dxt, dwt, _ = C.conv_transpose2d_backward(dref, tcache)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(C, "_phase_input_grad_pays", lambda *a: not phase_dx)
        assert_close(C.conv_transpose2d_forward(xt, w, b[:1].repeat(w.shape[1]), *targs)[0], ref,
                     _scaled(ref, cfg["dtype"]), "conv_transpose2d out, the other engine")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(C, "_phase_geometry", lambda *a: None)  # the im2col path as the reference
        dxt_ref, dwt_ref, _ = C.conv_transpose2d_backward(dref, tcache)
    assert_close(dxt, dxt_ref, _scaled(dxt_ref, cfg["dtype"]), "conv_transpose2d dx")
    assert_close(dwt, dwt_ref, _scaled(dwt_ref, cfg["dtype"]), "conv_transpose2d dw")


@settings(max_examples=30)
@given(cfg=phase_configs())
def test_kernels_read_images_through_their_phases(cfg):
    """Every direct kernel given an image and (sh, sw, ph, pw) computes exactly what it computes
    from the image's phases (``shuffle_phases``) read at stride 1 without padding."""
    x, w, b = _arrays(cfg, 4)
    n, c = cfg["x"][:2]
    out_hw = tuple((s + 2 * p - k) // st + 1 for s, p, k, st in zip(cfg["x"][2:], cfg["padding"], cfg["w"][2:],
                                                                  cfg["stride"]))
    geom = C.Geometry(cfg["w"][2:], cfg["stride"], cfg["padding"], (1, 1), cfg["x"][2:], out_hw)
    wmat = w.reshape(1, len(w), -1)
    phases = C._phase_geometry(wmat, geom)
    assume(phases is not None)
    weight = C._direct_weight(C._phase_weight(wmat, geom), phases)
    phase_image = np.empty((n, c * cfg["stride"][0] * cfg["stride"][1], *phases.image_hw), cfg["dtype"])
    K.shuffle_phases(x, phase_image, *cfg["stride"], *cfg["padding"], True)
    placed, unplaced = (*cfg["stride"], *cfg["padding"]), (1, 1, 0, 0)
    outs = [np.empty((n, len(w), *out_hw), cfg["dtype"]) for _ in range(2)]
    for image, placement, out in ((x, placed, outs[0]), (phase_image, unplaced, outs[1])):
        K.correlate_direct(image, weight, b, out, *placement, 1, 1, phases.live)
    np.testing.assert_array_equal(outs[0], outs[1])
    dout = np.random.default_rng(5).standard_normal(outs[0].shape).astype(cfg["dtype"])
    for kernel in WEIGHT_GRADS:
        np.testing.assert_array_equal(kernel(x, dout, *phases.kernel, *placed, 1, 1, phases.live),
                                      kernel(phase_image, dout, *phases.kernel, *unplaced, 1, 1, phases.live))


def test_phase_image_gradient_dispatch():
    """The phase form's image gradient is taken where at least a third of its products count:
    3x3 stride 2 from 28x28 (0.43), not from 14x14 (0.22); the FCN's 4x4 stride-2 up-convolution
    (all taps live) on 8x8 (0.5)."""
    for hw, out_hw, channels, filters, pays in (((28, 28), (14, 14), 16, 32, True), ((14, 14), (7, 7), 32, 64, False)):
        geom = C.Geometry((3, 3), (2, 2), (1, 1), (1, 1), hw, out_hw)
        phases = C._phase_geometry(np.zeros((1, filters, channels * 9)), geom)
        assert C._phase_input_grad_pays(filters, channels, geom, phases, 4) is pays
    fcn = C.Geometry((4, 4), (2, 2), (1, 1), (1, 1), (16, 16), (8, 8))
    assert C._phase_input_grad_pays(11, 11, fcn, C._phase_geometry(np.zeros((1, 11, 11 * 16)), fcn), 4)


def test_pixel_span_ends_in_a_half_block_where_the_rest_fits():
    for pixels in (16, 32, 64):
        half = pixels // 2
        for values, span in ((pixels, pixels), (2 * pixels + 1, 2 * pixels + half), (half, half),
                             (2 * pixels + half, 2 * pixels + half), (2 * pixels + half + 1, 3 * pixels)):
            assert K._pixel_span(values, pixels) == span
    assert K.direct_products(5, 9, 14, 14, 3, 1, 4) == 8 * K._pixel_span(14 * 16, K.BLOCK_BYTES // 16) * 9


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_kernel_over_every_kind_of_last_block(dtype):
    """Rows of 1 to 3 whole blocks of pixels (``OH * WP``), ending in nothing, in less than half
    a block or in more (8x8, 14x14, 16x16, 28x28 and 7x7 among them), against the naive twin."""
    pixels = K.BLOCK_BYTES // np.dtype(dtype).itemsize // K._FILTERS
    rng = np.random.default_rng(pixels)
    sizes = {(h, w) for h in (1, 2, 3) for w in range(1, 3 * pixels) if (h * (w + 2)) <= 3 * pixels}
    rests = set()
    for h, w in sorted(sizes)[::7] + [(8, 8), (14, 14), (16, 16), (28, 28), (7, 7)]:
        x = rng.standard_normal((2, 3, h, w)).astype(dtype)
        weight = rng.standard_normal((5, 3, 3, 3)).astype(dtype)
        bias = rng.standard_normal(5).astype(dtype)
        expected = naive.conv2d(x, weight, bias, (1, 1), (1, 1), (1, 1), 1)
        out = np.full(expected.shape, np.nan, dtype)
        K.correlate_direct(x, weight, bias, out, 1, 1, 1, 1, 1, 1, np.arange(27))
        assert_close(out, expected, _scaled(expected, dtype), f"forward on {h}x{w}")
        rest = h * (w + 2) % pixels
        rests.add(0 if rest == 0 else 1 if 2 * rest <= pixels else 2)
    assert rests == {0, 1, 2}


def test_phase_form_dispatch():
    geom = C.Geometry((4, 4), (2, 2), (1, 1), (1, 1), (16, 16), (8, 8))
    assert C._phase_geometry(np.zeros((1, 11, 11 * 16)), geom) is not None     # the FCN's 4x4 up-convolution
    unet = C.Geometry((2, 2), (2, 2), (0, 0), (1, 1), (16, 16), (8, 8))
    assert C._phase_geometry(np.zeros((1, 32, 64 * 4)), unet) is None          # kernel = stride: im2col
    geom3 = C.Geometry((3, 3), (2, 2), (1, 1), (1, 1), (16, 16), (8, 8))
    phases3 = C._phase_geometry(np.zeros((1, 8, 8 * 9)), geom3)
    assert phases3.kernel == (2, 2)                                              # padded to 4x4
    # The live taps are exactly the phase weight's entries that come from the kernel.
    np.testing.assert_array_equal(phases3.live, np.flatnonzero(C._phase_weight(np.ones((1, 1, 8 * 9)), geom3)))
    np.testing.assert_array_equal(C._phase_geometry(np.zeros((1, 11, 11 * 16)), geom).live, np.arange(11 * 16))
    dilated = C.Geometry((2, 2), (2, 2), (0, 0), (2, 2), (16, 16), (7, 7))
    assert C._phase_geometry(np.zeros((1, 8, 8 * 4)), dilated) is None
    assert C._phase_geometry(np.zeros((2, 4, 4 * 4)), geom) is None            # grouped

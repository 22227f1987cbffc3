"""conv2d / conv_transpose2d: kernels vs naive twins, gradient checks, PyTorch parity, errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from layers import conv as C
from layers._kernels import conv as K
from layers.naive import conv as naive
from tests.conftest import assert_close, assert_grads_match


@st.composite
def conv_configs(draw, max_groups=2):
    """A small valid conv2d configuration: shapes plus (stride, padding, dilation, groups)."""
    groups = draw(st.integers(1, max_groups))
    c_in = groups * draw(st.integers(1, 2))
    n_filt = groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    spans = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    h = max(1, spans[0] - 2 * padding[0]) + draw(st.integers(0, 4))
    w = max(1, spans[1] - 2 * padding[1]) + draw(st.integers(0, 4))
    n = draw(st.integers(1, 2))
    return dict(x=(n, c_in, h, w), w=(n_filt, c_in // groups, kh, kw), stride=stride,
                padding=padding, dilation=dilation, groups=groups)


def _arrays(cfg, rng, dtype=np.float64, transposed=False):
    x = rng.standard_normal(cfg["x"]).astype(dtype)
    f, cg, kh, kw = cfg["w"]
    if transposed:  # reinterpret the config: x's channels are the transposed conv's inputs
        w = rng.standard_normal((cfg["x"][1], f // cfg["groups"], kh, kw)).astype(dtype)
    else:
        w = rng.standard_normal(cfg["w"]).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    return x, w, b


def _geometry_args(cfg):
    n, c, h, w = cfg["x"]
    kh, kw = cfg["w"][2:]
    oh = C.conv_out_size(h, kh, cfg["stride"][0], cfg["padding"][0], cfg["dilation"][0])
    ow = C.conv_out_size(w, kw, cfg["stride"][1], cfg["padding"][1], cfg["dilation"][1])
    return (kh, kw), cfg["stride"], cfg["padding"], cfg["dilation"], (oh, ow)


def _transposed_output_exists(cfg, op):
    """Whether conv_transpose2d with this config has a non-empty output."""
    sizes = cfg["x"][2:]
    return all(
        (s - 1) * st_ - 2 * p + d * (k - 1) + o + 1 >= 1
        for s, st_, p, d, k, o in zip(sizes, cfg["stride"], cfg["padding"], cfg["dilation"],
                                      cfg["w"][2:], op)
    )


def _legal_output_padding(cfg, op):
    return tuple(min(o, max(s, d) - 1) for o, s, d in zip(op, cfg["stride"], cfg["dilation"]))


# ------------------------------------------------------------------- kernels vs naive
@given(cfg=conv_configs(), dtype=st.sampled_from([np.float32, np.float64]))
def test_im2col_and_col2im_match_naive(cfg, dtype):
    rng = np.random.default_rng(1)
    img = rng.standard_normal(cfg["x"]).astype(dtype)
    kernel, stride, padding, dilation, (oh, ow) = _geometry_args(cfg)
    (ph, pw), (n, c, h, w) = padding, img.shape
    padded = np.pad(img, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    expected = naive.im2col(img, kernel, stride, padding, dilation, (oh, ow))
    cols = np.full((c, *kernel, n, oh, ow), np.nan, dtype)  # every entry must be written
    K.im2col(padded, cols, *stride, *dilation)
    np.testing.assert_array_equal(cols.reshape(expected.shape), expected)

    back = np.full(padded.shape, np.nan, dtype)  # col2im must overwrite, not add to, its target
    K.col2im(expected.reshape(cols.shape), back, *stride, *dilation)
    expected_back = naive.col2im(expected, img.shape, kernel, stride, padding, dilation, (oh, ow))
    assert_close(back[:, :, ph:ph + h, pw:pw + w], expected_back,
                 1e-5 if dtype == np.float32 else 1e-12, "col2im")



@given(cfg=conv_configs())
def test_conv2d_pair_matches_naive(cfg):
    rng = np.random.default_rng(2)
    x, w, b = _arrays(cfg, rng)
    args = (cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"])
    out, cache = C.conv2d_forward(x, w, b, *args)
    assert_close(out, naive.conv2d(x, w, b, *args), 1e-12, "forward")
    dout = rng.standard_normal(out.shape)
    for got, want, name in zip(C.conv2d_backward(dout, cache), naive.conv2d_backward(dout, x, w, *args),
                               ("dx", "dw", "db")):
        assert_close(got, want, 1e-12, name)


@given(cfg=conv_configs(), op=st.tuples(st.integers(0, 2), st.integers(0, 2)))
def test_conv_transpose2d_matches_naive(cfg, op):
    op = _legal_output_padding(cfg, op)
    if not _transposed_output_exists(cfg, op):
        return  # padding ate the output; that error is tested below
    rng = np.random.default_rng(3)
    x, w, b = _arrays(cfg, rng, transposed=True)
    args = (cfg["stride"], cfg["padding"], op, cfg["dilation"], cfg["groups"])
    out, _ = C.conv_transpose2d_forward(x, w, b, *args)
    assert_close(out, naive.conv_transpose2d(x, w, b, *args), 1e-12, "forward")


# --------------------------------------------------------------------- gradient checks
@settings(max_examples=15)
@given(cfg=conv_configs(), bias=st.booleans())
def test_conv2d_gradcheck(cfg, bias):
    rng = np.random.default_rng(4)
    x, w, b = _arrays(cfg, rng)
    inputs = [mg.Tensor(x, requires_grad=True), mg.Tensor(w, requires_grad=True)]
    if bias:
        inputs.append(mg.Tensor(b, requires_grad=True))
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"],
              groups=cfg["groups"])
    mg.gradcheck(lambda *t: C.conv2d(*t, **kw), *inputs)


@settings(max_examples=15)
@given(cfg=conv_configs(), op=st.tuples(st.integers(0, 2), st.integers(0, 2)))
def test_conv_transpose2d_gradcheck(cfg, op):
    op = _legal_output_padding(cfg, op)
    if not _transposed_output_exists(cfg, op):
        return
    rng = np.random.default_rng(5)
    x, w, b = _arrays(cfg, rng, transposed=True)
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], output_padding=op,
              dilation=cfg["dilation"], groups=cfg["groups"])
    tensors = [mg.Tensor(a, requires_grad=True) for a in (x, w, b)]
    mg.gradcheck(lambda *t: C.conv_transpose2d(*t, **kw), *tensors)


# ----------------------------------------------------------------------- vs PyTorch
@given(cfg=conv_configs(max_groups=3))
def test_conv2d_matches_torch_float64(cfg, torch):
    rng = np.random.default_rng(6)
    x, w, b = _arrays(cfg, rng)
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"],
              groups=cfg["groups"])
    assert_grads_match(lambda *t: C.conv2d(*t, **kw),
                       lambda *t: torch.nn.functional.conv2d(*t, **kw), [x, w, b], torch, atol=1e-9)


@given(cfg=conv_configs(max_groups=3), op=st.tuples(st.integers(0, 2), st.integers(0, 2)))
def test_conv_transpose2d_matches_torch_float64(cfg, op, torch):
    op = _legal_output_padding(cfg, op)
    rng = np.random.default_rng(7)
    x, w, b = _arrays(cfg, rng, transposed=True)
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], output_padding=op,
              dilation=cfg["dilation"], groups=cfg["groups"])
    try:
        expected_shape = torch.nn.functional.conv_transpose2d(
            torch.tensor(x), torch.tensor(w), None, **kw).shape
    except RuntimeError:  # torch rejects an empty output; we raise ValueError instead
        with pytest.raises(ValueError, match="conv_transpose2d"):
            C.conv_transpose2d(x, w, b, **kw)
        return
    assert min(expected_shape) > 0
    assert_grads_match(lambda *t: C.conv_transpose2d(*t, **kw),
                       lambda *t: torch.nn.functional.conv_transpose2d(*t, **kw),
                       [x, w, b], torch, atol=1e-9)


def test_depthwise_matches_torch(torch, rng):
    x, w, b = rng.standard_normal((2, 6, 9, 8)), rng.standard_normal((12, 1, 3, 3)), rng.standard_normal(12)
    kw = dict(stride=2, padding=1, groups=6)
    assert_grads_match(lambda *t: C.conv2d(*t, **kw),
                       lambda *t: torch.nn.functional.conv2d(*t, **kw), [x, w, b], torch, atol=1e-9)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("padding", [0, 1])  # col2im adds into the output itself or into a padded copy
def test_float32_keeps_dtype_and_matches_torch(transposed, padding, torch, rng, monkeypatch):
    # A tiny chunk size forces several chunks, exercising the streaming loop.
    monkeypatch.setattr(C, "CHUNK_BYTES", 1024)
    x = rng.standard_normal((5, 4, 11, 10)).astype(np.float32)
    w = rng.standard_normal((4, 6, 3, 3) if transposed else (6, 4, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    ours_fn = C.conv_transpose2d if transposed else C.conv2d
    torch_fn = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d
    tensors = [mg.Tensor(a, requires_grad=True) for a in (x, w, b)]
    out = ours_fn(*tensors, stride=2, padding=padding)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(dout)
    refs = [torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in (x, w, b)]
    ref = torch_fn(*refs, stride=2, padding=padding)
    ref.backward(torch.tensor(dout))
    assert out.dtype == np.float32
    for got, want in [(out.data, ref.detach())] + [(t.grad, r.grad) for t, r in zip(tensors, refs)]:
        assert got.dtype == np.float32
        want = want.numpy()
        assert_close(got, want, 1e-4 * max(1.0, np.abs(want).max()), "float32")


def test_constant_input_gets_no_gradient(rng):
    x = mg.Tensor(rng.standard_normal((2, 3, 5, 5)))
    w = mg.Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    C.conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad is not None and w.grad.shape == (4, 3, 3, 3)


# ------------------------------------------------------------------------- modules
@pytest.mark.parametrize("transposed", [False, True])
def test_modules_load_into_torch_and_agree(transposed, torch, rng):
    kwargs = dict(kernel_size=(3, 2), stride=2, padding=1, dilation=(1, 2), groups=2)
    if transposed:
        ours = C.ConvTranspose2d(4, 6, output_padding=1, rng=0, dtype=np.float64, **kwargs)
        ref = torch.nn.ConvTranspose2d(4, 6, output_padding=1, **kwargs)
    else:
        ours = C.Conv2d(4, 6, rng=0, dtype=np.float64, **kwargs)
        ref = torch.nn.Conv2d(4, 6, **kwargs)
    state = ours.state_dict()
    assert {k: v.shape for k, v in state.items()} == {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    ref.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    x = rng.standard_normal((2, 4, 7, 8))
    assert_close(ours(mg.Tensor(x)).data, ref(torch.tensor(x)).detach().numpy(), 1e-10, "module")


@pytest.mark.parametrize("cls, fan_in", [(C.Conv2d, 2 * 3 * 5), (C.ConvTranspose2d, 3 * 3 * 5)])
def test_module_default_init_bounds(cls, fan_in):
    layer = cls(4, 6, (3, 5), groups=2, rng=np.random.default_rng(0))
    bound = 1 / np.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32 and p.requires_grad
        assert np.abs(p.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.9 * bound  # 180 draws fill the interval
    assert C.Conv2d(2, 3, 3, bias=False).bias is None
    assert len(C.Conv2d(2, 3, 3, bias=False).parameters()) == 1
    assert "kernel_size=(3, 5)" in repr(layer)
    np.testing.assert_array_equal(cls(4, 6, 3, rng=7).weight.data, cls(4, 6, 3, rng=7).weight.data)


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs, error, match",
    [
        ((3, 8, 8), (2, 3, 3, 3), {}, ValueError, r"conv2d: x must be 4-D .* got shape \(3, 8, 8\)"),
        ((1, 3, 8, 8), (2, 3, 3), {}, ValueError, r"conv2d: weight must be 4-D"),
        ((1, 4, 8, 8), (2, 3, 3, 3), {}, ValueError, r"^conv2d: x must have 3 channels for weight of shape \(2, 3, 3, 3\) with groups=1"),
        ((1, 3, 2, 8), (2, 3, 3, 3), {}, ValueError, r"conv2d: .*kernel 3x3 is larger than the padded input 2x8"),
        ((1, 3, 4, 4), (2, 3, 3, 3), {"dilation": 2}, ValueError, r"kernel 5x5 is larger than the padded input 4x4"),
        ((1, 3, 8, 8), (2, 3, 3, 3), {"stride": 0}, ValueError, r"conv2d: stride must be >= 1, got 0"),
        ((1, 3, 8, 8), (2, 3, 3, 3), {"padding": -1}, ValueError, r"conv2d: padding must be >= 0"),
        ((1, 3, 8, 8), (2, 3, 3, 3), {"stride": (1, 2, 3)}, TypeError, r"conv2d: stride must be an int or a pair"),
        ((1, 3, 8, 8), (2, 3, 3, 3), {"padding": 1.5}, TypeError, r"conv2d: padding must be an int or a pair"),
        ((1, 4, 8, 8), (3, 2, 3, 3), {"groups": 2}, ValueError, r"^conv2d: groups must divide both x's channels \(4\) and the number of filters \(3\), got 2"),
        ((1, 4, 8, 8), (4, 1, 3, 3), {"groups": 2}, ValueError,
         r"^conv2d: x must have 2 channels for weight of shape \(4, 1, 3, 3\) with groups=2, got shape \(1, 4, 8, 8\)"),
        ((1, 4, 8, 8), (4, 2, 3, 3), {"groups": 0}, ValueError, r"conv2d: groups must be an integer >= 1, got 0"),
    ],
)
def test_conv2d_bad_input(x_shape, w_shape, kwargs, error, match):
    with pytest.raises(error, match=match):
        C.conv2d(np.zeros(x_shape), np.zeros(w_shape), **kwargs)


def test_conv2d_bad_bias_and_dtypes():
    x, w = np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(2,\), got \(3,\)"):
        C.conv2d(x, w, np.zeros(3))
    with pytest.raises(TypeError, match=r"conv2d: weight must have the dtype of x \(float32\), got float64"):
        C.conv2d(x.astype(np.float32), w)
    with pytest.raises(TypeError, match=r"conv2d: x must be float32 or float64, got dtype int64"):
        C.conv2d(x.astype(np.int64), w)


def test_conv_transpose2d_bad_input():
    x, w = np.zeros((1, 4, 3, 3)), np.zeros((4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"^conv_transpose2d: x must have 4 channels for weight of shape \(4, 2, 3, 3\), got shape \(1, 3, 3, 3\)"):
        C.conv_transpose2d(np.zeros((1, 3, 3, 3)), w)
    with pytest.raises(ValueError, match=r"conv_transpose2d: output_padding must be smaller than the stride \(2, 2\) .* got \(2, 2\)"):
        C.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"^conv_transpose2d: padding must leave an output for x of shape \(1, 4, 1, 1\) .* got \(3, 3\)"):
        C.conv_transpose2d(np.zeros((1, 4, 1, 1)), w, padding=3)
    with pytest.raises(ValueError, match=r"conv_transpose2d: x must be 4-D"):
        C.conv_transpose2d(np.zeros((4, 3, 3)), w)
    with pytest.raises(ValueError, match=r"^ConvTranspose2d: groups must divide in_channels \(4\) and out_channels \(6\), got 3"):
        C.ConvTranspose2d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match=r"^conv_transpose2d: groups must divide x's channels \(4\), got 3"):
        C.conv_transpose2d(x, np.zeros((4, 1, 3, 3)), groups=3)
    with pytest.raises(ValueError, match=r"^ConvTranspose2d: x must have 4 channels for weight of shape \(4, 2, 3, 3\)"):
        C.ConvTranspose2d(4, 2, 3)(np.zeros((1, 3, 3, 3), np.float32))

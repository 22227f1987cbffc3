"""Bad input and empty batches across the dense, convolution, pooling and upsampling layers.

Every public function and Module refuses a bad hyper-parameter (NaN, inf,
a bool, a wrong type, an out-of-range value) and a non-float32/float64 input
with TypeError/ValueError naming itself and the argument; an empty batch
(N = 0) gives PyTorch's output shape and zero gradients.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from layers import activations as A
from layers import (
    attention, container, conv, dropout, embedding, norm, pooling, recurrent, transformer, upsample,
)
from layers.affine import Linear, linear

IMAGE = np.zeros((1, 2, 6, 6))

# Values no hyper-parameter accepts: non-finite, bool, wrong kind.
NEVER_VALID = st.sampled_from([math.nan, math.inf, -math.inf, True, False, np.True_, "2", None, [1.0]])
NON_INT_FLOATS = st.floats(allow_nan=True, allow_infinity=True)  # an int argument refuses any float
# A count (channels, features, groups, scale) is an int >= 1.
BAD_COUNTS = NEVER_VALID | NON_INT_FLOATS | st.integers(max_value=0)
# A size (kernel, stride, padding, dilation) is an int or a pair of ints, >= 0 (or >= 1).
_ints = st.integers(-3, 3)
BAD_SIZES = (NEVER_VALID | NON_INT_FLOATS | st.integers(max_value=-1)
             | st.tuples(_ints, _ints).filter(lambda t: min(t) < 0)
             | st.tuples(_ints, NEVER_VALID | NON_INT_FLOATS) | st.tuples(_ints, _ints, _ints))
BAD_POSITIVE_SIZES = BAD_SIZES | st.just(0) | st.tuples(st.just(0), st.integers(1, 3))
BAD_STRIDES = BAD_POSITIVE_SIZES.filter(lambda v: v is not None)  # a pool's stride None: the kernel
BAD_FLAGS = st.sampled_from([1, 0, "yes", None, math.nan])
BAD_PROBABILITIES = NEVER_VALID | st.floats(allow_nan=False).filter(lambda p: not 0 <= p <= 1)
BAD_DTYPES = st.sampled_from([np.float16, np.int64, np.int32, bool, np.complex64, "x", None])


# (public name, argument, call with the argument set to a value, strategy of bad values)
CASES = [
    ("leaky_relu", "negative_slope", lambda v: A.leaky_relu(np.ones(3), v), NEVER_VALID),
    ("LeakyReLU", "negative_slope", lambda v: A.LeakyReLU(v), NEVER_VALID),
    ("gelu", "approximate", lambda v: A.gelu(np.ones(3), v),
     NEVER_VALID | st.text(max_size=5).filter(lambda t: t not in ("none", "tanh"))),
    ("GELU", "approximate", lambda v: A.GELU(v), NEVER_VALID | st.just("fast")),
    ("Softmax", "dim", lambda v: A.Softmax(v), NEVER_VALID | NON_INT_FLOATS),
    ("dropout", "p", lambda v: dropout.dropout(np.ones(3), v), BAD_PROBABILITIES),
    ("dropout", "training", lambda v: dropout.dropout(np.ones(3), 0.5, v), BAD_FLAGS),
    ("dropout", "rng", lambda v: dropout.dropout(np.ones(3), 0.5, rng=v),
     st.integers(max_value=-1) | NON_INT_FLOATS | st.sampled_from(["seed", True, [1]])),
    ("Dropout", "p", lambda v: dropout.Dropout(v), BAD_PROBABILITIES),
    ("Linear", "in_features", lambda v: Linear(v, 3), BAD_COUNTS),
    ("Linear", "out_features", lambda v: Linear(3, v), BAD_COUNTS),
    ("Linear", "bias", lambda v: Linear(3, 3, bias=v), BAD_FLAGS),
    ("conv2d", "stride", lambda v: conv.conv2d(IMAGE, np.zeros((2, 2, 3, 3)), stride=v), BAD_POSITIVE_SIZES),
    ("conv2d", "padding", lambda v: conv.conv2d(IMAGE, np.zeros((2, 2, 3, 3)), padding=v), BAD_SIZES),
    ("conv2d", "dilation", lambda v: conv.conv2d(IMAGE, np.zeros((2, 2, 3, 3)), dilation=v), BAD_POSITIVE_SIZES),
    ("conv2d", "groups", lambda v: conv.conv2d(IMAGE, np.zeros((2, 2, 3, 3)), groups=v), BAD_COUNTS),
    ("conv_transpose2d", "output_padding",
     lambda v: conv.conv_transpose2d(IMAGE, np.zeros((2, 2, 3, 3)), stride=2, output_padding=v),
     BAD_SIZES | st.integers(2, 9)),
    ("Conv2d", "in_channels", lambda v: conv.Conv2d(v, 2, 3), BAD_COUNTS),
    ("Conv2d", "kernel_size", lambda v: conv.Conv2d(2, 2, v), BAD_POSITIVE_SIZES),
    ("Conv2d", "stride", lambda v: conv.Conv2d(2, 2, 3, stride=v), BAD_POSITIVE_SIZES),
    ("Conv2d", "groups", lambda v: conv.Conv2d(2, 2, 3, groups=v), BAD_COUNTS),
    ("Conv2d", "bias", lambda v: conv.Conv2d(2, 2, 3, bias=v), BAD_FLAGS),
    ("ConvTranspose2d", "output_padding", lambda v: conv.ConvTranspose2d(2, 2, 3, output_padding=v),
     BAD_SIZES | st.integers(1, 9)),
    ("max_pool2d", "kernel_size", lambda v: pooling.max_pool2d(IMAGE, v), BAD_POSITIVE_SIZES),
    ("max_pool2d", "stride", lambda v: pooling.max_pool2d(IMAGE, 2, v), BAD_STRIDES),
    ("avg_pool2d", "padding", lambda v: pooling.avg_pool2d(IMAGE, 2, padding=v), BAD_SIZES),
    ("MaxPool2d", "kernel_size", lambda v: pooling.MaxPool2d(v), BAD_POSITIVE_SIZES),
    ("AvgPool2d", "stride", lambda v: pooling.AvgPool2d(2, v), BAD_STRIDES),
    ("upsample2d", "scale_factor", lambda v: upsample.upsample2d(IMAGE, v), BAD_COUNTS),
    ("upsample2d", "mode", lambda v: upsample.upsample2d(IMAGE, 2, v), NEVER_VALID | st.just("bicubic")),
    ("Upsample", "scale_factor", lambda v: upsample.Upsample(v), BAD_COUNTS),
    ("embedding", "padding_idx", lambda v: embedding.embedding(np.array([0]), np.ones((3, 2)), v),
     NEVER_VALID.filter(lambda v: v is not None) | NON_INT_FLOATS
     | st.integers().filter(lambda i: not -3 <= i < 3)),
    ("Embedding", "num_embeddings", lambda v: embedding.Embedding(v, 2), BAD_COUNTS),
    ("Embedding", "embedding_dim", lambda v: embedding.Embedding(3, v), BAD_COUNTS),
    ("Embedding", "padding_idx", lambda v: embedding.Embedding(3, 2, padding_idx=v),
     NEVER_VALID.filter(lambda v: v is not None) | st.integers().filter(lambda i: not -3 <= i < 3)),
    ("Flatten", "start_dim", lambda v: container.Flatten(v), NEVER_VALID | NON_INT_FLOATS),
    ("Sequential", "index", lambda v: container.Sequential(Linear(2, 2))[v], NEVER_VALID | NON_INT_FLOATS),
    ("causal_mask", "t", lambda v: attention.causal_mask(v), BAD_COUNTS.filter(lambda v: v != 0)),
    ("sinusoidal_encoding", "dim", lambda v: attention.sinusoidal_encoding(4, v), BAD_COUNTS),
]
# Every constructor with a dtype= argument refuses anything but float32/float64 first.
DTYPE_CONSTRUCTORS = [
    ("Linear", lambda v: Linear(3, 3, dtype=v)),
    ("Conv2d", lambda v: conv.Conv2d(2, 2, 3, dtype=v)),
    ("ConvTranspose2d", lambda v: conv.ConvTranspose2d(2, 2, 3, dtype=v)),
    ("Embedding", lambda v: embedding.Embedding(3, 2, dtype=v)),
    ("LayerNorm", lambda v: norm.LayerNorm(3, dtype=v)),
    ("BatchNorm1d", lambda v: norm.BatchNorm1d(3, dtype=v)),
    ("BatchNorm2d", lambda v: norm.BatchNorm2d(3, dtype=v)),
    ("GroupNorm", lambda v: norm.GroupNorm(1, 3, dtype=v)),
    ("RNN", lambda v: recurrent.RNN(3, 4, dtype=v)),
    ("LSTM", lambda v: recurrent.LSTM(3, 4, dtype=v)),
    ("GRU", lambda v: recurrent.GRU(3, 4, dtype=v)),
    ("TemporalAffine", lambda v: recurrent.TemporalAffine(3, 4, dtype=v)),
    ("PositionalEncoding", lambda v: attention.PositionalEncoding(4, 10, dtype=v)),
    ("MultiheadAttention", lambda v: attention.MultiheadAttention(4, 2, dtype=v)),
    ("TransformerEncoderLayer", lambda v: transformer.TransformerEncoderLayer(4, 2, 8, dtype=v)),
    ("TransformerDecoderLayer", lambda v: transformer.TransformerDecoderLayer(4, 2, 8, dtype=v)),
    ("causal_mask", lambda v: attention.causal_mask(3, dtype=v)),
    ("sinusoidal_encoding", lambda v: attention.sinusoidal_encoding(4, 2, v)),
]
CASES += [(func, "dtype", call, BAD_DTYPES) for func, call in DTYPE_CONSTRUCTORS]


@pytest.mark.parametrize("func, name, call, bad", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
@settings(max_examples=20)
@given(data=st.data())
def test_bad_hyper_parameters_name_the_argument(func, name, call, bad, data):
    value = data.draw(bad, label=name)
    with pytest.raises((TypeError, ValueError), match=f"^{func}: {name} must "):
        call(value)


# (public name, call on one float input x); each also works on float32 and float64.
X_CASES = [
    ("relu", A.relu, (2, 3)), ("sigmoid", A.sigmoid, (2, 3)), ("tanh", A.tanh, (2, 3)),
    ("softmax", A.softmax, (2, 3)), ("leaky_relu", A.leaky_relu, (2, 3)), ("gelu", A.gelu, (2, 3)),
    ("ReLU", A.ReLU(), (2, 3)), ("LeakyReLU", A.LeakyReLU(), (2, 3)), ("GELU", A.GELU(), (2, 3)),
    ("Softmax", A.Softmax(), (2, 3)), ("Sigmoid", A.Sigmoid(), (2, 3)), ("Tanh", A.Tanh(), (2, 3)),
    ("dropout", dropout.dropout, (2, 3)), ("Dropout", dropout.Dropout(), (2, 3)),
    ("linear", lambda x: linear(x, np.ones((2, 3), x.dtype)), (2, 3)),
    ("Linear", Linear(3, 2), (2, 3)),
    ("conv2d", lambda x: conv.conv2d(x, np.ones((2, 2, 3, 3), x.dtype)), (1, 2, 6, 6)),
    ("conv_transpose2d", lambda x: conv.conv_transpose2d(x, np.ones((2, 2, 3, 3), x.dtype)), (1, 2, 6, 6)),
    ("Conv2d", conv.Conv2d(2, 2, 3), (1, 2, 6, 6)),
    ("ConvTranspose2d", conv.ConvTranspose2d(2, 2, 3), (1, 2, 6, 6)),
    ("max_pool2d", lambda x: pooling.max_pool2d(x, 2), (1, 2, 6, 6)),
    ("avg_pool2d", lambda x: pooling.avg_pool2d(x, 2), (1, 2, 6, 6)),
    ("global_avg_pool2d", pooling.global_avg_pool2d, (1, 2, 6, 6)),
    ("MaxPool2d", pooling.MaxPool2d(2), (1, 2, 6, 6)),
    ("AvgPool2d", pooling.AvgPool2d(2), (1, 2, 6, 6)),
    ("GlobalAvgPool2d", pooling.GlobalAvgPool2d(), (1, 2, 6, 6)),
    ("upsample2d", upsample.upsample2d, (1, 2, 3, 3)),
    ("Upsample", upsample.Upsample(2, "bilinear"), (1, 2, 3, 3)),
]


@pytest.mark.parametrize("func, call, shape", X_CASES, ids=[c[0] for c in X_CASES])
@settings(max_examples=6)
@given(dtype=st.sampled_from([np.float16, np.int32, np.int64, np.uint8, np.bool_, np.complex64]))
def test_only_float32_and_float64_inputs(func, call, shape, dtype):
    x = np.ones(shape, dtype)
    with pytest.raises(TypeError, match=f"^{func}: x must be float32 or float64, got dtype {np.dtype(dtype)}"):
        call(x)


@pytest.mark.parametrize("func, call, shape", X_CASES, ids=[c[0] for c in X_CASES])
def test_float_inputs_keep_their_dtype(func, call, shape):
    dtype = np.float32  # the Modules' parameters are float32 by default
    assert call(mg.Tensor(np.ones(shape, dtype))).dtype == dtype


def test_embedding_refuses_float16_weight_and_float_indices():
    with pytest.raises(TypeError, match="^embedding: weight must be float32 or float64, got dtype float16"):
        embedding.embedding(np.array([0]), np.ones((3, 2), np.float16))
    with pytest.raises(TypeError, match="^Embedding: idx must hold integers, got dtype bool"):
        embedding.Embedding(3, 2)(np.array([True]))


@pytest.mark.parametrize("func, call", [
    ("conv2d", lambda x: conv.conv2d(x, np.ones((2, 2, 3, 3)))),
    ("conv_transpose2d", lambda x: conv.conv_transpose2d(x, np.ones((2, 2, 3, 3)))),
    ("linear", lambda x: linear(x, np.ones((2, 6)))),
])
def test_mixed_float_dtypes_raise(func, call):
    # A functional call: x sets the dtype, the weight passed with it is at fault.
    with pytest.raises(TypeError, match=f"^{func}: weight must have the dtype of x \\(float32\\), got float64"):
        call(np.ones((1, 2, 6, 6), np.float32))


@pytest.mark.parametrize("func, module", [
    ("Conv2d", conv.Conv2d(2, 2, 3, dtype=np.float64)),
    ("ConvTranspose2d", conv.ConvTranspose2d(2, 2, 3, dtype=np.float64)),
    ("Linear", Linear(6, 2, dtype=np.float64)),
    ("TemporalAffine", recurrent.TemporalAffine(6, 2, dtype=np.float64)),
])
def test_modules_report_the_input_dtype(func, module):
    # A Module: its parameters set the dtype, the input is at fault.
    x = np.ones((1, 2, 6) if func == "TemporalAffine" else (1, 2, 6, 6), np.float32)
    with pytest.raises(TypeError, match=f"^{func}: x must have the dtype of weight \\(float64\\), got float32"):
        module(x)


# ------------------------------------------------------------------ Flatten
@given(ndim=st.integers(0, 4), start=st.integers(-6, 6))
def test_flatten_dims_outside_x_raise_like_torch(torch, ndim, start):
    x = np.zeros((2,) * ndim)
    try:
        want = torch.nn.Flatten(start, -1)(torch.tensor(x)).shape
    except IndexError:
        with pytest.raises(IndexError, match=f"^Flatten: start_dim must be in .* got {start}"):
            container.Flatten(start, -1)(mg.Tensor(x))
        return
    except RuntimeError:  # start after end: torch's own error
        with pytest.raises(ValueError, match="^Flatten: cannot flatten dims"):
            container.Flatten(start, -1)(mg.Tensor(x))
        return
    assert container.Flatten(start, -1)(mg.Tensor(x)).shape == tuple(want)


def test_flatten_start_dim_3_of_a_matrix_raises():
    with pytest.raises(IndexError, match=r"Flatten: start_dim must be in \[-2, 1\] for x with shape \(2, 3\), got 3"):
        container.Flatten(start_dim=3)(mg.Tensor(np.zeros((2, 3))))


def test_leaky_relu_nan_slope_raises():
    with pytest.raises(ValueError, match="^leaky_relu: negative_slope must be finite, got nan"):
        A.leaky_relu(np.ones(3), math.nan)


def test_dropout_identity_never_aliases_its_input():
    x = np.ones(4)
    out, cache = dropout.dropout_forward(x, 0.5, False, None)
    out[...] = 2
    assert cache is None and np.all(x == 1)
    for layer_out in (dropout.dropout(x, 0.0).data, dropout.Dropout(0.5).eval()(mg.Tensor(x)).data):
        assert not np.shares_memory(layer_out, x)


# ------------------------------------------------------------- empty batches
def _empty_cases(torch):
    F = torch.nn.functional
    x4, w = (0, 2, 6, 6), (3, 2, 3, 3)
    return {
        "conv2d": (lambda x, w, b: conv.conv2d(x, w, b, padding=1, stride=2),
                   lambda x, w, b: F.conv2d(x, w, b, padding=1, stride=2), [x4, w, (3,)]),
        "conv2d_groups": (lambda x, w: conv.conv2d(x, w, groups=2), lambda x, w: F.conv2d(x, w, groups=2),
                          [x4, (4, 1, 3, 3)]),
        "conv_transpose2d": (lambda x, w, b: conv.conv_transpose2d(x, w, b, stride=2, output_padding=1),
                             lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, output_padding=1),
                             [x4, (2, 3, 3, 3), (3,)]),
        "max_pool2d": (lambda x: pooling.max_pool2d(x, 3, 2, 1), lambda x: F.max_pool2d(x, 3, 2, 1), [x4]),
        "max_pool2d_2x2": (lambda x: pooling.max_pool2d(x, 2), lambda x: F.max_pool2d(x, 2), [x4]),
        "avg_pool2d": (lambda x: pooling.avg_pool2d(x, 3, 2, 1), lambda x: F.avg_pool2d(x, 3, 2, 1), [x4]),
        "global_avg_pool2d": (pooling.global_avg_pool2d, lambda x: F.adaptive_avg_pool2d(x, 1), [x4]),
        "nearest": (lambda x: upsample.upsample2d(x, 2), lambda x: F.interpolate(x, scale_factor=2), [x4]),
        "bilinear": (lambda x: upsample.upsample2d(x, 2, "bilinear"),
                     lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"), [x4]),
        "linear": (linear, F.linear, [(0, 5), (3, 5), (3,)]),
        "linear_3d": (linear, F.linear, [(2, 0, 5), (3, 5), (3,)]),
        "embedding": (lambda w: embedding.embedding(np.zeros((0, 4), np.int64), w),
                      lambda w: F.embedding(torch.zeros((0, 4), dtype=torch.long), w), [(5, 3)]),
        "gelu": (A.gelu, F.gelu, [(0, 3)]),
        "leaky_relu": (A.leaky_relu, F.leaky_relu, [(0, 3)]),
        "softmax": (A.softmax, lambda x: F.softmax(x, -1), [(0, 3)]),
        "dropout": (lambda x: dropout.dropout(x, 0.5, rng=0), lambda x: F.dropout(x, 0.5), [(0, 3)]),
    }


EMPTY = ["conv2d", "conv2d_groups", "conv_transpose2d", "max_pool2d", "max_pool2d_2x2", "avg_pool2d",
         "global_avg_pool2d", "nearest", "bilinear", "linear", "linear_3d", "embedding", "gelu",
         "leaky_relu", "softmax", "dropout"]


@pytest.mark.parametrize("name", EMPTY)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_empty_batch_matches_torch(torch, name, dtype):
    ours_fn, ref_fn, shapes = _empty_cases(torch)[name]
    arrays = [np.ones(s, dtype) for s in shapes]
    ours = [mg.Tensor(a, requires_grad=True) for a in arrays]
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = ours_fn(*ours), ref_fn(*refs)
    assert out.shape == tuple(ref.shape) and out.dtype == dtype and out.size == 0
    out.backward(np.ones(out.shape, dtype))
    ref.backward(torch.ones(ref.shape, dtype=ref.dtype))
    for k, (o, r) in enumerate(zip(ours, refs)):
        assert o.grad.shape == tuple(r.grad.shape) and o.grad.dtype == dtype, f"grad {k}"
        np.testing.assert_array_equal(o.grad, r.grad.numpy())  # zeros for weights and biases


def test_empty_batch_through_modules():
    x = mg.Tensor(np.zeros((0, 2, 6, 6), np.float32))
    model = container.Sequential(
        conv.Conv2d(2, 4, 3, padding=1, rng=0), A.ReLU(), pooling.MaxPool2d(2),
        upsample.Upsample(2), conv.ConvTranspose2d(4, 2, 3, rng=0), pooling.GlobalAvgPool2d(),
        container.Flatten(), Linear(2, 3, rng=0), dropout.Dropout(0.5, rng=0),
    )
    out = model(x)
    assert out.shape == (0, 3)
    out.sum().backward()
    assert all(p.grad is not None and not p.grad.any() for p in model.parameters())

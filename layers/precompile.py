"""Fill Numba's on-disk cache with every layer kernel: ``python -m layers.precompile``.

A kernel compiles the first time a process calls it with new argument types:
seconds per layer family, so a first training step used to take 5 s instead
of 0.7 s. Compiled code is cached on disk beside the sources and loaded in
milliseconds by every later process. Installation (``make demo``, ``make
test``) runs this module once so that nobody's first call waits; after a
``pip install``, run it yourself (it is safe to run again: cached kernels only
load).

It runs each layer forward and backward once on small inputs, in float32 and
float64 (the two dtypes layers accept), through the same public calls users
make, with and without the optional pieces that change a kernel's argument
types (bias, masks, training mode). ``tests/test_precompile.py`` checks that
a course model's training step compiles nothing afterwards.
"""
import sys
import time

import numpy as np

import minigrad as mg

from . import (
    GELU, GRU, LSTM, RNN, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Dropout, Embedding,
    GlobalAvgPool2d, GroupNorm, LayerNorm, LeakyReLU, Linear, MaxPool2d, MultiheadAttention, ReLU, Sigmoid,
    SiLU, Softmax, Tanh, TemporalAffine, TransformerDecoderLayer, TransformerEncoderLayer, Upsample,
    binary_cross_entropy_with_logits, causal_mask, cross_entropy, l1_loss, mse_loss, svm_loss,
    temporal_softmax_loss,
)


def _image_modules(dtype):
    """Modules taking (N, 4, 6, 6) images."""
    return [
        # The first two take the direct convolution kernels (the second's 16 filters the weight
        # gradient as outer products), the third im2col + GEMM.
        Conv2d(4, 3, 3, padding=1, dtype=dtype), Conv2d(4, 16, 3, padding=1, dtype=dtype),
        Conv2d(4, 4, 3, stride=2, groups=2, bias=False, dtype=dtype),
        ConvTranspose2d(4, 3, 2, stride=2, dtype=dtype), MaxPool2d(2), AvgPool2d(2), GlobalAvgPool2d(),
        BatchNorm2d(4, dtype=dtype), BatchNorm2d(4, affine=False, dtype=dtype), GroupNorm(2, 4, dtype=dtype),
        Upsample(2), Upsample(2, mode="bilinear"), Dropout(0.5, rng=0),
        ReLU(), LeakyReLU(), GELU(), GELU("tanh"), Sigmoid(), Tanh(), SiLU(), Softmax(dim=1),
    ]


def _sequence_modules(dtype):
    """Modules taking (N, T, 8) sequences."""
    return [
        Linear(8, 5, dtype=dtype), Linear(8, 5, bias=False, dtype=dtype), TemporalAffine(8, 5, dtype=dtype),
        LayerNorm(8, dtype=dtype), LayerNorm(8, elementwise_affine=False, dtype=dtype), Softmax(),
        RNN(8, 6, dtype=dtype), LSTM(8, 6, dtype=dtype), GRU(8, 6, dtype=dtype),
        RNN(8, 6, bias=False, dtype=dtype), LSTM(8, 6, bias=False, dtype=dtype), GRU(8, 6, bias=False, dtype=dtype),
        TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1, dtype=dtype),
        TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, activation="gelu", dtype=dtype),
    ]


def _backward(out):
    """Backpropagate ones from a module's output (the first one of a tuple)."""
    while isinstance(out, tuple):
        out = out[0]
    out.sum().backward()


def _run_module(module, x):
    module.train()
    _backward(module(mg.Tensor(x, requires_grad=True)))
    module.eval()
    with mg.no_grad():
        module(mg.Tensor(x))


def _run_attention(dtype, rng):
    n, t, s, e = 2, 5, 4, 8
    q, kv = rng.standard_normal((n, t, e)).astype(dtype), rng.standard_normal((n, s, e)).astype(dtype)
    padding = np.zeros((n, s), dtype=bool)
    padding[0, -1] = True
    for attention in (MultiheadAttention(e, 2, dtype=dtype), MultiheadAttention(e, 2, dropout=0.1, bias=False,
                                                                                  rng=0, dtype=dtype)):
        query, memory = mg.Tensor(q, requires_grad=True), mg.Tensor(kv, requires_grad=True)
        _backward(attention(query, memory, memory, key_padding_mask=padding))
        _backward(attention(query, query, query, attn_mask=causal_mask(t, dtype=dtype)))
        _backward(attention(query, query, query, is_causal=True, attn_mask=causal_mask(t, dtype=dtype),
                            need_weights=False))
    decoder = TransformerDecoderLayer(e, 2, dim_feedforward=16, dtype=dtype)
    _backward(decoder(mg.Tensor(q, requires_grad=True), mg.Tensor(kv, requires_grad=True),
                      tgt_mask=causal_mask(t, dtype=dtype)))


def _run_losses(dtype, rng):
    scores = rng.standard_normal((6, 5)).astype(dtype)
    labels = rng.integers(0, 5, 6)
    targets = rng.random((6, 5)).astype(dtype)
    for loss in (lambda x: cross_entropy(x, labels), lambda x: cross_entropy(x, labels, label_smoothing=0.1),
                 lambda x: svm_loss(x, labels), lambda x: mse_loss(x, targets), lambda x: l1_loss(x, targets),
                 lambda x: binary_cross_entropy_with_logits(x, targets)):
        _backward(loss(mg.Tensor(scores, requires_grad=True)))
    sequence = rng.standard_normal((2, 3, 5)).astype(dtype)
    mask = np.array([[1, 1, 0], [1, 1, 1]], dtype=bool)
    _backward(temporal_softmax_loss(mg.Tensor(sequence, requires_grad=True), rng.integers(0, 5, (2, 3)), mask))
    embedding = Embedding(10, 4, padding_idx=0, dtype=dtype)
    _backward(embedding(rng.integers(0, 10, (2, 3))))


def precompile(dtypes=(np.float32, np.float64)):
    """Run every layer once forward and backward per dtype; returns the seconds it took."""
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    for dtype in dtypes:
        images = rng.standard_normal((2, 4, 6, 6)).astype(dtype)
        sequences = rng.standard_normal((2, 3, 8)).astype(dtype)
        for module in _image_modules(dtype):
            _run_module(module, images)
        for module in _sequence_modules(dtype):
            _run_module(module, sequences)
        _run_module(BatchNorm1d(8, dtype=dtype), sequences[:, 0])
        # Batch norm on images of ROW_MOMENTS_MIN pixels or more takes a kernel of its own.
        _run_module(BatchNorm2d(4, dtype=dtype), rng.standard_normal((2, 4, 10, 10)).astype(dtype))
        # Enough channels for Winograd's kernels (layers.conv.WINOGRAD_MIN_CHANNELS).
        _run_module(Conv2d(32, 32, 3, padding=1, dtype=dtype), rng.standard_normal((2, 32, 5, 5)).astype(dtype))
        _run_attention(dtype, rng)
        _run_losses(dtype, rng)
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"layers: kernels compiled or loaded from cache in {precompile():.1f} s", file=sys.stderr)

"""CS231n-style layers: forward/backward pairs, autograd Functions and Modules.

Each family module (``layers.conv``, ``layers.norm``, ...) holds, in order, the
functional ``*_forward``/``*_backward`` pair on plain arrays, the ``Function``
that puts it on the graph, a Tensor-level function, and the ``Module``. This
package re-exports the Modules and the Tensor-level functions, except
``dropout`` and ``embedding``, whose names are taken by their submodules
(use ``layers.dropout.dropout`` and ``layers.embedding.embedding``).
"""
from .activations import GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softmax, Tanh, gelu, leaky_relu, relu, sigmoid, silu, softmax, tanh
from .affine import Linear, linear
from .attention import (
    MultiheadAttention, PositionalEncoding, causal_mask, multi_head_attention, sinusoidal_encoding, timestep_embedding,
)
from .container import Flatten, Sequential
from .contrastive import info_nce_loss, nt_xent_loss
from .conv import Conv2d, ConvTranspose2d, conv2d, conv_transpose2d
from .dropout import Dropout
from .embedding import Embedding
from .losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    dice_loss,
    l1_loss,
    mse_loss,
    sigmoid_focal_loss,
    smooth_l1_loss,
    soft_iou_loss,
    svm_loss,
    temporal_softmax_loss,
)
from .norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, batch_norm, group_norm, layer_norm
from .pooling import (
    AdaptiveAvgPool2d, AvgPool2d, GlobalAvgPool2d, MaxPool2d, adaptive_avg_pool2d, avg_pool2d, global_avg_pool2d,
    max_pool2d,
)
from .recurrent import GRU, LSTM, RNN, TemporalAffine, gru, lstm, rnn, temporal_affine
from .residual import BasicBlock, Bottleneck, ResNet, SqueezeExcitation
from .style import content_loss, gram_matrix, style_loss, total_variation_loss
from .transformer import TransformerDecoderLayer, TransformerEncoderLayer
from .upsample import Upsample, upsample2d

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BasicBlock", "BatchNorm1d", "BatchNorm2d", "Bottleneck", "Conv2d",
    "ConvTranspose2d", "Dropout", "Embedding", "Flatten",
    "GELU", "GRU", "GlobalAvgPool2d", "GroupNorm", "LSTM", "LayerNorm", "LeakyReLU", "Linear", "MaxPool2d",
    "MultiheadAttention", "PositionalEncoding", "RNN", "ReLU", "ResNet", "Sequential", "Sigmoid", "Softmax",
    "SqueezeExcitation", "Tanh", "SiLU", "silu", "timestep_embedding", "nt_xent_loss", "info_nce_loss", "gram_matrix",
    "content_loss", "style_loss", "total_variation_loss",
    "TemporalAffine", "TransformerDecoderLayer", "TransformerEncoderLayer", "Upsample",
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy_with_logits", "causal_mask", "conv2d",
    "conv_transpose2d", "cross_entropy", "dice_loss", "gelu", "global_avg_pool2d", "group_norm",
    "gru", "l1_loss", "layer_norm", "leaky_relu", "linear", "lstm", "max_pool2d", "mse_loss",
    "multi_head_attention", "relu", "rnn", "sigmoid", "sigmoid_focal_loss", "sinusoidal_encoding",
    "smooth_l1_loss", "soft_iou_loss", "softmax", "svm_loss", "tanh",
    "temporal_affine", "temporal_softmax_loss", "upsample2d",
]

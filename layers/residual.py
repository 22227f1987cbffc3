"""Residual networks: ``BasicBlock``, ``Bottleneck``, the squeeze-and-excitation gate and a
``ResNet`` builder.

A residual block learns a correction ``F(x)`` added to its input: ``relu(F(x) + shortcut(x))``.
The shortcut is the identity when shapes agree, else a 1x1 convolution with the block's
stride followed by batch norm (the "projection shortcut", option B of He et al.). Gradients
flow through the addition unchanged, which is what lets deep stacks train.

These are compositions of existing layers (convolution, batch norm, ReLU, pooling,
linear), so their gradients are those layers' hand-written backward passes; the tests hold
each block against the same block built from PyTorch modules with the same weights.
Parameter names follow torchvision's (``conv1``, ``bn1``, ``downsample.0``, ...), so a
state dict reads the same in both.
"""
import numpy as np

from minigrad import Module
from minigrad.validation import check_bool, check_choice, check_int, check_int_sequence

from .activations import ReLU, relu
from .affine import Linear
from .container import Flatten, Sequential
from .conv import Conv2d
from .norm import BatchNorm2d
from .pooling import AdaptiveAvgPool2d


class SqueezeExcitation(Module):
    """Channel gate of Hu et al.: ``x * sigmoid(W2 relu(W1 mean_hw(x)))``, per channel.

    Parameters
    ----------
    channels : int, C
    squeeze_channels : int, the bottleneck width of the gate (e.g. C // 16)
    """

    def __init__(self, channels, squeeze_channels, rng=None, dtype=np.float32):
        super().__init__()
        channels = check_int("SqueezeExcitation", "channels", channels, low=1)
        squeeze_channels = check_int("SqueezeExcitation", "squeeze_channels", squeeze_channels, low=1)
        self.avgpool = AdaptiveAvgPool2d(1)
        self.fc1 = Conv2d(channels, squeeze_channels, 1, rng=rng, dtype=dtype)
        self.fc2 = Conv2d(squeeze_channels, channels, 1, rng=rng, dtype=dtype)

    def forward(self, x):
        """x : (N, C, H, W) -> (N, C, H, W)."""
        return x * self.fc2(relu(self.fc1(self.avgpool(x)))).sigmoid()


def _projection(in_channels, out_channels, stride, rng, dtype):
    """The shortcut where shapes change: 1x1 convolution with the block's stride, then batch norm."""
    return Sequential(Conv2d(in_channels, out_channels, 1, stride=stride, bias=False, rng=rng, dtype=dtype),
                      BatchNorm2d(out_channels, dtype=dtype))


class _Residual(Module):
    """``relu(residual(x) [* se gate] + shortcut(x))``; subclasses build ``residual``'s layers."""

    expansion = 1

    def __init__(self, in_channels, channels, stride, se_reduction, shortcut, rng, dtype):
        super().__init__()
        name = type(self).__name__
        self.in_channels = check_int(name, "in_channels", in_channels, low=1)
        self.channels = check_int(name, "channels", channels, low=1)
        self.stride = check_int(name, "stride", stride, low=1)
        self.out_channels = self.channels * self.expansion
        self.shortcut = check_bool(name, "shortcut", shortcut)
        self.se = None
        if se_reduction is not None:
            se_reduction = check_int(name, "se_reduction", se_reduction, low=1)
            self.se = SqueezeExcitation(self.out_channels, max(self.out_channels // se_reduction, 1), rng, dtype)
        reshapes = self.stride != 1 or self.in_channels != self.out_channels
        self.downsample = (_projection(self.in_channels, self.out_channels, self.stride, rng, dtype)
                           if shortcut and reshapes else None)

    def residual(self, x):
        raise NotImplementedError

    def forward(self, x):
        """x : (N, in_channels, H, W) -> (N, channels * expansion, ceil(H / stride), ceil(W / stride))."""
        out = self.residual(x)
        if self.se is not None:
            out = self.se(out)
        if self.shortcut:
            out = out + (x if self.downsample is None else self.downsample(x))
        return relu(out)


class BasicBlock(_Residual):
    """Two 3x3 convolutions with batch norm: ``conv-bn-relu-conv-bn``, plus the shortcut, then ReLU.

    Parameters
    ----------
    in_channels : int
    channels : int, output channels (``expansion`` = 1)
    stride : int, of the first convolution and the projection shortcut (2 halves H and W)
    se_reduction : int or None, a squeeze-and-excitation gate of width ``channels // se_reduction``
    shortcut : bool, False for a plain block of the same depth (no addition)
    rng, dtype : as for every layer
    """

    def __init__(self, in_channels, channels, stride=1, se_reduction=None, shortcut=True, rng=None,
                 dtype=np.float32):
        super().__init__(in_channels, channels, stride, se_reduction, shortcut, rng, dtype)
        self.conv1 = Conv2d(self.in_channels, self.channels, 3, stride=self.stride, padding=1, bias=False, rng=rng,
                            dtype=dtype)
        self.bn1 = BatchNorm2d(self.channels, dtype=dtype)
        self.conv2 = Conv2d(self.channels, self.channels, 3, padding=1, bias=False, rng=rng, dtype=dtype)
        self.bn2 = BatchNorm2d(self.channels, dtype=dtype)

    def residual(self, x):
        return self.bn2(self.conv2(self.bn1(self.conv1(x), relu=True)))


class Bottleneck(_Residual):
    """``1x1 (reduce) - 3x3 - 1x1 (expand x4)`` with batch norm, plus the shortcut, then ReLU.

    The stride sits on the 3x3 convolution (torchvision's "ResNet v1.5"). Arguments as in
    ``BasicBlock``; the output has ``4 * channels`` channels.
    """

    expansion = 4

    def __init__(self, in_channels, channels, stride=1, se_reduction=None, shortcut=True, rng=None,
                 dtype=np.float32):
        super().__init__(in_channels, channels, stride, se_reduction, shortcut, rng, dtype)
        self.conv1 = Conv2d(self.in_channels, self.channels, 1, bias=False, rng=rng, dtype=dtype)
        self.bn1 = BatchNorm2d(self.channels, dtype=dtype)
        self.conv2 = Conv2d(self.channels, self.channels, 3, stride=self.stride, padding=1, bias=False, rng=rng,
                            dtype=dtype)
        self.bn2 = BatchNorm2d(self.channels, dtype=dtype)
        self.conv3 = Conv2d(self.channels, self.out_channels, 1, bias=False, rng=rng, dtype=dtype)
        self.bn3 = BatchNorm2d(self.out_channels, dtype=dtype)

    def residual(self, x):
        out = self.bn1(self.conv1(x), relu=True)
        return self.bn3(self.conv3(self.bn2(self.conv2(out), relu=True)))


BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


class ResNet(Module):
    """A residual network for small images: a 3x3 stem, stages of blocks, global average
    pooling and a linear classifier (CIFAR-style ResNets of He et al., section 4.2).

    Parameters
    ----------
    in_channels : int, image channels
    num_classes : int
    widths : sequence of int, the ``channels`` of each stage's blocks, e.g. (16, 32, 64)
    depths : sequence of int, blocks per stage (same length as ``widths``), e.g. (2, 2, 2)
    block : 'basic' | 'bottleneck'
    se_reduction : int or None, a squeeze-and-excitation gate in every block
    shortcuts : bool
        False drops every shortcut (blocks become plain ``conv-bn-relu`` stacks of the
        same depth): the baseline that shows what the shortcut does.

    Every stage after the first halves H and W (stride 2 in its first block).
    """

    def __init__(self, in_channels, num_classes, widths=(16, 32, 64), depths=(2, 2, 2), block="basic",
                 se_reduction=None, shortcuts=True, rng=None, dtype=np.float32):
        super().__init__()
        func = "ResNet"
        in_channels = check_int(func, "in_channels", in_channels, low=1)
        num_classes = check_int(func, "num_classes", num_classes, low=1)
        widths = check_int_sequence(func, "widths", widths, low=1)
        depths = check_int_sequence(func, "depths", depths, low=1)
        if len(widths) != len(depths) or not widths:
            raise ValueError(f"{func}: widths and depths must have the same length >= 1, got {widths} and {depths}")
        check_choice(func, "block", block, tuple(BLOCKS))
        block_class = BLOCKS[block]
        self.stem = Sequential(Conv2d(in_channels, widths[0], 3, padding=1, bias=False, rng=rng, dtype=dtype),
                               BatchNorm2d(widths[0], dtype=dtype), ReLU())
        blocks, channels = [], widths[0]
        for stage, (width, depth) in enumerate(zip(widths, depths)):
            for i in range(depth):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(block_class(channels, width, stride, se_reduction, shortcuts, rng, dtype))
                channels = blocks[-1].out_channels
        self.layers = Sequential(*blocks)
        self.head = Sequential(AdaptiveAvgPool2d(1), Flatten(), Linear(channels, num_classes, rng=rng, dtype=dtype))

    def forward(self, x):
        """x : (N, in_channels, H, W) -> class scores (N, num_classes)."""
        return self.head(self.layers(self.stem(x)))

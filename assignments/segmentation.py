"""Semantic segmentation of digit scenes: an FCN with skip scores, and a U-Net.

Every pixel of a 64 x 64 digit scene is labelled background or one of the ten digits
(11 classes; see :mod:`assignments.scenes`). Two fully convolutional networks, chosen
with ``--set model=fcn|unet``:

``unet`` (default)
    U-Net: at each of four levels two 3x3 conv-BN-ReLU (8, 16, 32, 64 channels),
    2x2 max-pooling between levels; on the way up, a 2x2 stride-2 transposed convolution
    doubles the size and halves the channels, the result is concatenated with the same
    level's features from the way down, and two more 3x3 conv-BN-ReLU follow. A 1x1
    convolution gives the 11 class scores at every pixel.
``fcn``
    FCN-8s's idea on small scenes: the same down path (16, 32, 64, 128 channels, each
    level pooled by 2) ends at stride 16; 1x1 score layers read the three deepest levels
    (strides 4, 8 and 16 in FCN-8s's 8, 16 and 32 on its 500-pixel images, here strides
    2, 4 and 8 after pooling), the coarsest is upsampled by 2 with a transposed
    convolution and added to the next, twice, and a last transposed convolution
    upsamples the fused scores (stride 2) to the input size. Each upsampling starts as
    bilinear interpolation, as in FCN, and is learned from there.

Both start with the bias of their last scoring layer at the log of each class's share of
the training pixels, so that they predict the class frequencies from the first step: from
a zero bias, Adam's steps of about ``lr`` take a thousand steps to make the background
(93 % of the pixels) likely, and a U-Net's loss fell from 2.5 to 0.75 in 100 steps where
it now starts at 0.43. Both train with Adam on pixel-wise cross-entropy (``--set loss=ce+dice`` adds the soft
Dice loss), the learning rate following a cosine to zero over the run, and the weights
of the epoch with the best validation mean IoU are kept. Reported on the test scenes:
mean IoU over the 11 classes and pixel accuracy; plots of predicted masks beside the
truth, the confusion matrix, and the training curves.
"""
import time

import numpy as np

import minigrad as mg
from classic_cv.metrics import class_iou, confusion_matrix
from layers.activations import softmax
from layers.container import Sequential
from layers.conv import Conv2d, ConvTranspose2d
from layers.losses import cross_entropy, dice_loss
from layers.pooling import MaxPool2d
from minigrad.validation import as_generator, check_int, check_int_sequence
from optim import Adam, CosineAnnealingLR, check_step

from . import plots
from .cli import progress, save_checkpoint
from .models import conv_bn_relu
from .scenes import NUM_CLASSES, load_digit_scenes
from .settings import choice, declare, integer, training

DESCRIPTION = "digit scenes -> 11-class masks: U-Net or FCN with skip scores, cross-entropy, mean IoU"
DEFAULTS = training(epochs=6, batch_size=32, lr=2e-3)
MODELS = ("unet", "fcn")
LOSSES = ("ce", "ce+dice")
WIDTHS = (8, 16, 32, 64)
OPTIONS = declare(model=choice("unet", MODELS), loss=choice("ce", LOSSES),
                  train_scenes=integer(8000, low=1), eval_scenes=integer(1000, low=1))
QUICK_SCENES = (600, 100)  # train and eval scenes of a --quick run
SHOWN = 8  # test scenes drawn with their predicted masks


def double_conv(in_channels, out_channels, rng):
    """Two 3x3 conv-BN-ReLU: U-Net's unit at every level."""
    return Sequential(*conv_bn_relu(in_channels, out_channels, rng), *conv_bn_relu(out_channels, out_channels, rng))


def bilinear_kernel(channels, size):
    """Weights (channels, channels, size, size) of a transposed convolution that upsamples
    each channel by ``size // 2`` with bilinear interpolation (FCN's initialisation)."""
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 else factor - 0.5
    ramp = 1 - np.abs(np.arange(size) - centre) / factor
    weight = np.zeros((channels, channels, size, size), dtype=np.float32)
    weight[np.arange(channels), np.arange(channels)] = np.outer(ramp, ramp)
    return weight


def _check_widths(func, widths):
    widths = check_int_sequence(func, "widths", widths, low=1)
    if len(widths) < 2:
        raise ValueError(f"{func}: widths must list at least 2 levels, got {widths!r}")
    return widths


class UNet(mg.Module):
    """U-Net: images (N, C, H, W) -> class scores (N, num_classes, H, W).

    Parameters
    ----------
    in_channels, num_classes : int
    widths : sequence of int
        Channels of each level, top (full size) to bottom; H and W must be
        multiples of ``2 ** (len(widths) - 1)``.
    rng : numpy Generator, int or None
    """

    def __init__(self, in_channels, num_classes, widths=WIDTHS, rng=None):
        super().__init__()
        in_channels = check_int("UNet", "in_channels", in_channels, low=1)
        num_classes = check_int("UNet", "num_classes", num_classes, low=1)
        self.widths = _check_widths("UNet", widths)
        rng = as_generator("UNet", "rng", rng)
        self.down = [double_conv(cin, cout, rng) for cin, cout in zip((in_channels,) + self.widths, self.widths)]
        self.pool = MaxPool2d(2)
        self.upsample = [ConvTranspose2d(deep, shallow, 2, stride=2, rng=rng)
                         for deep, shallow in zip(self.widths[:0:-1], self.widths[-2::-1])]
        self.up = [double_conv(2 * width, width, rng) for width in self.widths[-2::-1]]
        self.head = Conv2d(self.widths[0], num_classes, 1, rng=rng)

    @property
    def scoring_bias(self):
        """The bias of the last scoring layer, (num_classes,)."""
        return self.head.bias

    def forward(self, x):
        skips = []
        for level, block in enumerate(self.down):
            x = block(x if level == 0 else self.pool(x))
            skips.append(x)
        for upsample, block, skip in zip(self.upsample, self.up, skips[-2::-1]):
            x = block(mg.concatenate([skip, upsample(x)], axis=1))
        return self.head(x)

    def extra_repr(self):
        return f"widths={self.widths}"


class FCN(mg.Module):
    """FCN with skip scores from the three deepest levels: images (N, C, H, W) -> scores (N, K, H, W).

    Parameters
    ----------
    in_channels, num_classes : int
    widths : sequence of at least 3 ints
        Channels of each level; every level but the first starts with a 2x2
        max-pool, so the last is at stride ``2 ** (len(widths) - 1)``. H and W
        must be multiples of it.
    rng : numpy Generator, int or None
    """

    def __init__(self, in_channels, num_classes, widths=WIDTHS, rng=None):
        super().__init__()
        in_channels = check_int("FCN", "in_channels", in_channels, low=1)
        num_classes = check_int("FCN", "num_classes", num_classes, low=1)
        self.widths = _check_widths("FCN", widths)
        if len(self.widths) < 3:
            raise ValueError(f"FCN: widths must list at least 3 levels, got {self.widths!r}")
        rng = as_generator("FCN", "rng", rng)
        self.down = [double_conv(cin, cout, rng) for cin, cout in zip((in_channels,) + self.widths, self.widths)]
        self.pool = MaxPool2d(2)
        self.score = [Conv2d(width, num_classes, 1, rng=rng) for width in self.widths[-3:]]
        # Two 2x upsamplings between the skips, then one from the shallowest skip's stride to the input size.
        self.upsample = [ConvTranspose2d(num_classes, num_classes, 4, stride=2, padding=1, bias=False, rng=rng)
                         for _ in range(2)]
        final = 2 ** (len(self.widths) - 3)
        self.final = (None if final == 1 else
                      ConvTranspose2d(num_classes, num_classes, 2 * final, stride=final, padding=final // 2,
                                      bias=False, rng=rng))
        for layer in self.upsample + ([self.final] if self.final is not None else []):
            layer.weight.data[...] = bilinear_kernel(num_classes, layer.weight.shape[-1])

    @property
    def scoring_bias(self):
        """The bias of the score layer added last (the shallowest), (num_classes,)."""
        return self.score[0].bias

    def forward(self, x):
        features = []
        for level, block in enumerate(self.down):
            x = block(x if level == 0 else self.pool(x))
            features.append(x)
        shallow, middle, deep = (score(f) for score, f in zip(self.score, features[-3:]))
        fused = self.upsample[1](self.upsample[0](deep) + middle) + shallow
        return fused if self.final is None else self.final(fused)

    def extra_repr(self):
        return f"widths={self.widths}"


ARCHITECTURES = {"unet": UNet, "fcn": FCN}


def build_model(name, seed, masks=None):
    """The ``name`` network ("unet" or "fcn") for one-channel scenes and 11 classes; given the
    training ``masks`` (N, H, W), its scores start at the log class frequencies."""
    model = ARCHITECTURES[name](1, NUM_CLASSES, WIDTHS, rng=seed)
    if masks is not None:
        model.scoring_bias.data[...] = class_log_frequencies(masks)
    return model


def class_log_frequencies(masks):
    """(NUM_CLASSES,) float32 log of each class's share of the pixels of ``masks`` (a class
    never seen counts as one pixel, so that its log stays finite)."""
    counts = np.bincount(masks.ravel(), minlength=NUM_CLASSES)
    return np.log(np.maximum(counts, 1) / masks.size).astype(np.float32)


def load_scenes(args):
    """The digit scenes of the run: ``train_scenes`` / ``eval_scenes`` x 2 (``--quick``: a few)."""
    n_train, n_eval = QUICK_SCENES if args.quick else (args.train_scenes, args.eval_scenes)
    return load_digit_scenes(n_train, n_eval, n_eval, seed=args.seed)


def segmentation_loss(scores, masks, loss):
    """Pixel-wise cross-entropy of ``scores`` (N, K, H, W) against ``masks`` (N, H, W), plus
    the soft Dice loss of the class probabilities when ``loss`` is ``"ce+dice"``."""
    value = cross_entropy(scores, masks)
    if loss == "ce+dice":
        value = value + dice_loss(softmax(scores, axis=1), masks)
    return value


def predict(model, images, batch_size=200):
    """The most likely class of every pixel of ``images`` (N, 1, H, W) -> (N, H, W), in eval mode."""
    was_training = model.training
    model.eval()
    with mg.no_grad():
        masks = np.concatenate([model(mg.Tensor(images[i:i + batch_size])).data.argmax(axis=1)
                                for i in range(0, len(images), batch_size)])
    model.train(was_training)
    return masks


def evaluate(model, scenes):
    """``(mean IoU over the 11 classes, pixel accuracy, confusion matrix)`` on ``scenes``."""
    confusion = confusion_matrix(predict(model, scenes.images), scenes.masks, NUM_CLASSES)
    return float(np.nanmean(class_iou(confusion))), float(np.trace(confusion) / confusion.sum()), confusion


def train(model, scenes, args):
    """Adam with a per-step cosine schedule; keeps the weights of the best validation epoch.

    Returns the per-step losses and per-epoch validation mean IoUs.
    """
    optimizer = Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * -(-len(scenes.train) // args.batch_size)
    schedule = CosineAnnealingLR(optimizer, steps)
    rng = np.random.default_rng(args.seed)
    losses, val_iou, best = [], [], None
    for epoch in progress(range(1, args.epochs + 1), desc="epochs"):
        order = rng.permutation(len(scenes.train))
        for start in range(0, len(order), args.batch_size):
            batch = order[start:start + args.batch_size]
            lr = optimizer.param_groups[0]["lr"]
            loss = segmentation_loss(model(mg.Tensor(scenes.train.images[batch])), scenes.train.masks[batch], args.loss)
            losses.append(check_step("segmentation", loss.item(), len(losses) + 1, epoch, lr))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        val_iou.append(evaluate(model, scenes.val)[0])
        if best is None or val_iou[-1] > max(val_iou[:-1]):
            best = model.state_dict()
    model.load_state_dict(best)
    return losses, val_iou


def main(args):
    scenes = load_scenes(args)
    model = build_model(args.model, args.seed, scenes.train.masks)
    start = time.perf_counter()
    losses, val_iou = train(model, scenes, args)
    seconds = time.perf_counter() - start
    test_iou, test_pixel_accuracy, confusion = evaluate(model, scenes.test)
    per_class = class_iou(confusion)

    test = scenes.test
    shown = predict(model, test.images[:SHOWN])
    plots.segmentation(f"{args.out}/predictions.png", test.images[:SHOWN], test.masks[:SHOWN], shown, NUM_CLASSES,
                       f"{args.model}: test scenes, true masks, predicted masks (mean IoU {test_iou:.3f})")
    plots.confusion(f"{args.out}/confusion.png", confusion, ["bg"] + [str(d) for d in range(10)],
                    f"{args.model}: test pixels (rows: truth, columns: prediction)")
    plots.curves(f"{args.out}/val_mean_iou.png", {args.model: val_iou}, "epoch", "validation mean IoU",
                 "mean IoU over 11 classes")
    plots.curves(f"{args.out}/train_loss.png", {args.model: losses}, "iteration", "training loss",
                 "pixel-wise " + ("cross-entropy + Dice" if args.loss == "ce+dice" else "cross-entropy"))
    save_checkpoint(args, **{f"model.{k}": v for k, v in model.state_dict().items()})
    return {"test_mean_iou": test_iou, "test_pixel_accuracy": test_pixel_accuracy,
            "test_class_iou": per_class, "val_mean_iou_history": val_iou, "losses": losses,
            "train_seconds": seconds}

"""Gram-matrix texture synthesis and style transfer (Gatys et al.), optimising the image.

Images
    The photographs and textures that ship with scikit-image (by default
    content ``chelsea`` and style ``gravel``; ``BUNDLED`` lists the others,
    e.g. ``astronaut``, ``brick``, ``grass``, ``coffee``), or any image file:
    ``--set content=PATH style=PATH``.
    scikit-image is a reference library, which library code never imports, so
    the bundled files are located with ``importlib.util.find_spec("skimage")``
    (which finds the installed package without running it) and read with
    ``classic_cv.io.read_image``. Each image is cropped to its central square
    and shrunk to ``size`` x ``size`` (Gaussian pyramid, then bilinear);
    a gray texture is repeated over the three colour channels.

Feature extractor
    No pretrained network can be downloaded here, so the features come from
    a multi-scale CNN with fixed random filters: four 3x3 convolutions
    (``WIDTHS`` channels, He-normal weights drawn from a fixed seed, no bias)
    each followed by a ReLU, with 2x2 average pooling between them, so the
    four feature maps see the image at full, half, quarter and eighth
    resolution. That random, untrained filters suffice is a known result:
    Gram statistics of shallow networks with random weights already
    synthesise convincing textures, as long as there are enough filters over
    enough scales (Ustyuzhaninov, Brendel, Gatys and Bethge, 2016-17). A
    network trained here on 28x28 digits would know nothing of photographs.
    The input is centred (``x - 0.5``) before the first convolution.

Losses
    ``layers.style``'s CS231n sums, each divided by its target's squared
    norm so that every term is a relative error near 1 and the weights are
    scale-free: the style loss is ``sum_l ||G_l(x) - G_l(style)||^2 /
    ||G_l(style)||^2`` over the four scales, the content loss
    ``content_weight * ||F(x) - F(content)||^2 / ||F(content)||^2`` at the
    third scale, plus ``tv_weight`` times the total variation.

Optimisation
    Over the pixels, never the network: L-BFGS-B through
    ``scipy.optimize.minimize`` (the gradient from our backward, pixels
    bounded to [0, 1]) or Adam (``--set optimizer=adam``, pixels clipped to
    [0, 1] after every step), ``iterations`` iterations each. Style transfer
    starts from the content image; the texture grows from uniform noise with
    the style loss alone.

Reports the final losses (metrics.json), their history over the iterations
(``losses.png``), the pictures (``pictures.png``: content, style, result,
texture; ``result.png`` and ``texture.png`` at full resolution) and a
checkpoint with both images and the extractor's filters. ``--quick`` runs a
32 x 32 image for 10 iterations. The PyTorch twin is
``benchmarks/twins/style_transfer.py``.
"""
import importlib.util
import os
import time

import numpy as np
import scipy.optimize

import minigrad as mg
from classic_cv import gaussian_pyramid, resize
from classic_cv.io import read_image, write_image
from layers import AvgPool2d, Conv2d, content_loss, gram_matrix, style_loss, total_variation_loss
from minigrad.validation import as_generator, check_float_dtype
from optim import Adam, check_step

from . import plots
from .cli import progress, save_checkpoint
from .data import DatasetError
from .settings import Setting, choice, declare, integer, number, positive

# The scikit-image files a name may refer to (each ``skimage/data/NAME.png``).
BUNDLED = ("astronaut", "brick", "camera", "chelsea", "coffee", "grass", "gravel")


def _image_source(default):
    """A bundled image's name or the path of an existing image file."""
    def check(func, name, value):
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{func}: {name} must be a name or a path, got {value!r}")
        value = os.fspath(value)
        if value not in BUNDLED and not os.path.isfile(value):
            raise ValueError(f"{func}: {name} must be one of {', '.join(BUNDLED)} or an existing file, "
                             f"got {value!r}")
        return value

    return Setting(default, f"one of {', '.join(BUNDLED)} or an image file", check, lambda text: text)


DESCRIPTION = "Gram-matrix texture synthesis and style transfer on random multi-scale CNN features"
DEFAULTS = declare()  # the image is optimised, not a network: no epochs or batches
OPTIONS = declare(content=_image_source("chelsea"), style=_image_source("gravel"),
                  size=integer(128, low=16), optimizer=choice("lbfgs", ("lbfgs", "adam")),
                  iterations=integer(60, low=1), adam_lr=positive(0.02),
                  content_weight=number(0.5, low=0), tv_weight=number(1e-4, low=0))
QUICK_SIZE, QUICK_ITERATIONS = 32, 10

WIDTHS = (32, 64, 128, 128)  # channels of the four scales
CONTENT_LAYER = 2            # the quarter-resolution features
FEATURE_SEED = 0             # the random filters are part of the method: fixed, not --seed


# ----------------------------------------------------------------------------- images
def bundled_image_path(name):
    """Path of scikit-image's bundled ``NAME.png``, found without importing scikit-image."""
    spec = importlib.util.find_spec("skimage")
    folders = [] if spec is None else list(spec.submodule_search_locations or [])
    for folder in folders:
        path = os.path.join(folder, "data", f"{name}.png")
        if os.path.isfile(path):
            return path
    raise DatasetError(f"style_transfer: image {name!r} ships with scikit-image, which is not installed "
                       f"(pip install scikit-image, or --set content=PATH style=PATH)")


def load_image(source, size):
    """The image ``source`` (a ``BUNDLED`` name or a file path) as (3, size, size) float32 in [0, 1].

    Cropped to its central square, shrunk with a Gaussian pyramid to at most
    twice ``size`` and then bilinearly to ``size``; gray repeated over RGB.
    """
    path = bundled_image_path(source) if source in BUNDLED else source
    try:
        image = read_image(path)
    except OSError as exc:
        raise DatasetError(f"style_transfer: cannot read image {path!r} ({exc})") from None
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    h, w = image.shape[:2]
    side = min(h, w)
    image = image[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
    levels = max(1, int(np.floor(np.log2(side / size))))
    image = gaussian_pyramid(image, levels=levels)[-1]
    image = resize(image, (size, size))
    return np.clip(image, 0.0, 1.0).transpose(2, 0, 1).astype(np.float32)


# ----------------------------------------------------------------------------- features
class RandomFeatures(mg.Module):
    """The fixed random multi-scale CNN of the module docstring.

    Parameters
    ----------
    widths : sequence of int, channels at each scale
    rng : Generator, int or None, source of the filters
    dtype : float32 or float64

    ``forward(x)`` takes images (N, 3, H, W) and returns the list of feature
    maps, scale k of shape (N, widths[k], H / 2^k, W / 2^k) (floored).
    The filters do not require gradients: only the image is optimised.
    """

    def __init__(self, widths=WIDTHS, rng=FEATURE_SEED, dtype=np.float32):
        super().__init__()
        rng = as_generator("RandomFeatures", "rng", rng)
        dtype = check_float_dtype("RandomFeatures", "dtype", dtype)
        self.convs = []
        for c_in, c_out in zip((3,) + tuple(widths[:-1]), widths):
            conv = Conv2d(c_in, c_out, 3, padding=1, bias=False, dtype=dtype)
            fan_in = c_in * 9
            conv.weight.data = (rng.standard_normal(conv.weight.shape) * np.sqrt(2.0 / fan_in)).astype(dtype)
            conv.weight.requires_grad = False
            self.convs.append(conv)
        self.pool = AvgPool2d(2)

    def forward(self, x):
        features = []
        h = x - x.data.dtype.type(0.5)
        for k, conv in enumerate(self.convs):
            h = conv(self.pool(h) if k else h).relu()
            features.append(h)
        return features


# ----------------------------------------------------------------------------- losses
class Targets:
    """What the losses compare against, computed once: the style image's Gram
    matrices, the content image's features, and the weights that divide each
    term by its target's squared norm (see the module docstring)."""

    def __init__(self, extractor, style, content=None, content_weight=0.0):
        with mg.no_grad():
            self.grams = [gram_matrix(f).data for f in extractor(mg.Tensor(style[None]))]
            self.style_weights = [1.0 / float(np.sum(np.square(g.astype(np.float64)))) for g in self.grams]
            self.content = None
            if content is not None and content_weight > 0:
                self.content = extractor(mg.Tensor(content[None]))[CONTENT_LAYER].data
                self.content_weight = content_weight / float(np.sum(np.square(self.content.astype(np.float64))))


def losses(extractor, image, targets, tv_weight):
    """The loss of ``image`` (a Tensor (1, 3, H, W)): ``(total Tensor, {"style", "content", "tv"} floats)``."""
    features = extractor(image)
    total = style_loss(features, targets.grams, targets.style_weights)
    parts = {"style": total.item(), "content": 0.0, "tv": 0.0}
    if targets.content is not None:
        term = content_loss(features[CONTENT_LAYER], targets.content, targets.content_weight)
        parts["content"] = term.item()
        total = total + term
    if tv_weight > 0:
        term = total_variation_loss(image, tv_weight)
        parts["tv"] = term.item()
        total = total + term
    return total, parts


def objective(extractor, targets, shape, tv_weight, dtype=np.float32):
    """L-BFGS's ``fun(x) -> (loss, gradient)`` over flat float64 pixels ``x`` of an image of
    ``shape`` (3, H, W), computed in ``dtype``; ``fun.last`` holds the last point's loss parts."""
    def fun(x):
        image = mg.Tensor(x.reshape((1,) + tuple(shape)).astype(dtype), requires_grad=True)
        total, parts = losses(extractor, image, targets, tv_weight)
        total.backward()
        fun.last = (x.copy(), parts)
        return float(total.item()), image.grad.astype(np.float64).ravel()

    fun.last = None
    return fun


# ----------------------------------------------------------------------------- optimisers
def run_lbfgs(fun, start, iterations, desc):
    """L-BFGS-B from ``start`` (3, H, W) with pixels in [0, 1]; returns (image, history of loss parts):
    the start's and then each iteration's."""
    fun(start.astype(np.float64).ravel())
    history = [fun.last[1]]
    bar = progress(range(iterations), desc=desc)

    def record(xk):
        x, parts = fun.last
        if not np.array_equal(x, xk):  # the accepted point was not the last one evaluated
            fun(xk)
            parts = fun.last[1]
        history.append(parts)
        check_step("style_transfer", sum(parts.values()), len(history) - 1, 1, 0.0)
        bar.update(1)

    result = scipy.optimize.minimize(fun, start.astype(np.float64).ravel(), jac=True, method="L-BFGS-B",
                                     bounds=scipy.optimize.Bounds(0.0, 1.0), callback=record,
                                     options={"maxiter": iterations, "maxfun": 20 * iterations})
    bar.close()
    return result.x.reshape(start.shape).astype(start.dtype), history


def run_adam(extractor, targets, start, iterations, lr, tv_weight, desc):
    """Adam from ``start`` (3, H, W), clipping pixels to [0, 1] after each step; (image, history):
    the start's loss parts and then each step's."""
    image = mg.Parameter(start[None].copy())
    optimizer = Adam([image], lr=lr)
    history = []
    for step in progress(range(1, iterations + 1), desc=desc):
        total, parts = losses(extractor, image, targets, tv_weight)
        check_step("style_transfer", total.item(), step, 1, lr)
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        np.clip(image.data, 0.0, 1.0, out=image.data)
        history.append(parts)
    final = losses(extractor, mg.Tensor(image.data), targets, tv_weight)[1]
    history.append(final)
    return image.data[0], history


def optimise(extractor, targets, start, args, desc):
    """``args.optimizer`` from ``start``; returns (image, history of loss parts, seconds)."""
    begin = time.perf_counter()
    if args.optimizer == "lbfgs":
        fun = objective(extractor, targets, start.shape, args.tv_weight, start.dtype)
        image, history = run_lbfgs(fun, start, args.iterations, desc)
    else:
        image, history = run_adam(extractor, targets, start, args.iterations, args.adam_lr, args.tv_weight, desc)
    return image, history, time.perf_counter() - begin


def settle_quick(args):
    """``--quick``: a QUICK_SIZE image and QUICK_ITERATIONS iterations at most."""
    if getattr(args, "quick", False):
        args.size, args.iterations = min(args.size, QUICK_SIZE), min(args.iterations, QUICK_ITERATIONS)
    return args


# ----------------------------------------------------------------------------- plots
def loss_plot(path, transfer, texture, title=""):
    """Style and content losses of the transfer, and the texture's style loss, per iteration (log scale)."""
    fig = plots._figure(7.0, 4.0)
    ax = fig.add_subplot()
    for label, values in (("transfer: style", [p["style"] for p in transfer]),
                          ("transfer: content", [p["content"] for p in transfer]),
                          ("texture: style", [p["style"] for p in texture])):
        ax.plot(np.arange(len(values)), values, label=label)
    ax.set(yscale="log", xlabel="iteration", ylabel="loss", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(path)
    return path


def picture_row(path, images, titles):
    """(3, H, W) images in [0, 1] side by side, shown as they are (no rescaling)."""
    fig = plots._figure(2.6 * len(images), 2.9)
    for i, (image, title) in enumerate(zip(images, titles)):
        ax = fig.add_subplot(1, len(images), i + 1)
        ax.imshow(np.clip(image.transpose(1, 2, 0), 0, 1))
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    fig.savefig(path)
    return path


# ----------------------------------------------------------------------------- the script
def main(args):
    args = settle_quick(args)
    content, style = load_image(args.content, args.size), load_image(args.style, args.size)
    extractor = RandomFeatures()
    transfer_targets = Targets(extractor, style, content, args.content_weight)
    texture_targets = Targets(extractor, style)
    noise = as_generator("style_transfer", "seed", args.seed).random(content.shape).astype(np.float32)
    result, transfer, transfer_seconds = optimise(extractor, transfer_targets, content, args, "transfer")
    texture, grown, texture_seconds = optimise(extractor, texture_targets, noise, args, "texture")

    metrics = {
        "test_style_loss": transfer[-1]["style"],
        "test_content_loss": transfer[-1]["content"],
        "test_texture_style_loss": grown[-1]["style"],
        "tv_loss": transfer[-1]["tv"],
        "initial_style_loss": transfer[0]["style"],
        "initial_texture_style_loss": grown[0]["style"],
        "history": {"transfer": transfer, "texture": grown},
        "train_seconds": transfer_seconds + texture_seconds,
        "seconds": {"transfer": transfer_seconds, "texture": texture_seconds},
        "images": {"content": args.content, "style": args.style, "size": args.size},
    }
    out = args.out
    loss_plot(f"{out}/losses.png", transfer, grown,
              f"{args.optimizer}, {args.size}x{args.size}: style {metrics['test_style_loss']:.3g}, "
              f"content {metrics['test_content_loss']:.3g}")
    picture_row(f"{out}/pictures.png", [content, style, result, texture],
                [f"content ({os.path.basename(args.content)})", f"style ({os.path.basename(args.style)})",
                 "style transfer", "texture from noise"])
    write_image(f"{out}/result.png", result.transpose(1, 2, 0).astype(np.float64))
    write_image(f"{out}/texture.png", texture.transpose(1, 2, 0).astype(np.float64))
    save_checkpoint(args, result=result, texture=texture,
                    **{f"extractor.{k}": v for k, v in extractor.state_dict().items()})
    return metrics

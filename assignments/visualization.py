"""What a trained CNN looks at: saliency maps, class visualisation and fooling images (CS231n).

The network is the ``cnn`` script's ConvNet. It is loaded from that script's
checkpoint (``<out>/cnn/checkpoint.npz``, or ``--set checkpoint=PATH``) when
one exists, and otherwise trained here on a short schedule. Then:

saliency
    ``max over channels of |d score_y / d pixel|`` for test images of every
    class (Simonyan et al., 2014).
class visualisation
    Gradient ascent on one class score from a blank image, with an L2 penalty,
    random jitter and periodic Gaussian blur (Yosinski et al., 2015).
fooling images
    Gradient ascent on a wrong target class, from correctly classified test
    images, until the net predicts the target; reports the iterations taken and
    how little the image changed.

All three need the gradient of a class score with respect to the *input*, so
the model runs in eval mode (batchnorm uses its running statistics, which also
makes every image of a batch independent of the others).
"""
import argparse
import os

import numpy as np
from scipy.ndimage import gaussian_filter

import minigrad as mg
from minigrad.validation import check_int
from optim import Adam
from optim.checkpoint import CheckpointError, load_arrays

from . import cnn, plots
from .cli import load_data, save_checkpoint, single_threaded_blas
from .models import accuracy, fit
from .settings import OptionError, declare, existing_file, integer, training

DESCRIPTION = "saliency maps, class visualisation and fooling images of the trained cnn"
# epochs/batch_size/lr apply to the classifier when no cnn checkpoint exists.
DEFAULTS = training(epochs=3, batch_size=64, lr=1e-3)
# checkpoint: a cnn checkpoint.npz; none means <out>/cnn/checkpoint.npz if present, else train.
CNN_CHECKPOINT = existing_file("a checkpoint.npz of the cnn script")
OPTIONS = declare(checkpoint=CNN_CHECKPOINT, class_steps=integer(200, low=0),
                  fooling_steps=integer(100, low=0))

# Class visualisation (CS231n's settings, scaled to 28x28 digits in [0, 1]).
# A strong L2 penalty and blur (chosen by eye) keep the strokes smooth on a dark background.
CLASS_LR = 0.3
CLASS_L2 = 0.1
CLASS_JITTER = 2
CLASS_BLUR_EVERY = 10
CLASS_BLUR_SIGMA = 0.7
# Fooling: each step moves the image by FOOL_LR in L2 norm (0.03 took 3x the steps for
# the same change; 0.5 changed the images 10-20 % more).
FOOL_LR = 0.1


# ----------------------------------------------------------------------------- the classifier

def trained_cnn(data, args, epochs, batch_size=64, lr=1e-3):
    """The ``cnn`` script's ConvNet for ``data``, in eval mode, and where it came from.

    Loads ``args.checkpoint`` if given, else ``<out root>/cnn/checkpoint.npz``
    when present; otherwise trains one for ``epochs`` epochs with Adam (seed
    ``args.seed``). Returns ``(model, source)`` with ``source`` the checkpoint
    path or ``"trained"``.
    """
    net_args = argparse.Namespace(shift=cnn.OPTIONS["shift"], seed=args.seed, epochs=epochs,
                                  batch_size=batch_size, lr=lr)
    model = cnn.build_model(data, net_args)
    path = getattr(args, "checkpoint", None)
    if path is None:
        default = os.path.join(os.path.dirname(args.out), "cnn", "checkpoint.npz")
        path = default if os.path.exists(default) else None
    if path is not None:
        model.load_state_dict(_cnn_state(path, model, data))
        source = path
    else:
        fit(model, Adam(model.parameters(), lr=lr), data.X_train, data.y_train,
            data.X_val, data.y_val, net_args)
        source = "trained"
    model.eval()
    return model, source


def _cnn_state(path, model, data):
    """The ``model.*`` arrays of the cnn checkpoint at ``path``, checked against ``model``'s.

    Raises ``OptionError`` (a ValueError) naming the file and what is wrong:
    missing, not an ``.npz``, or holding a network of other shapes (e.g. one
    trained on other images).
    """
    if not os.path.isfile(path):
        raise OptionError(f"trained_cnn: checkpoint {path!r} does not exist; run "
                          f"`python -m assignments run cnn` or omit --set checkpoint")
    try:
        saved = load_arrays(path, "trained_cnn")
    except (OSError, CheckpointError) as exc:
        raise OptionError(f"{exc}; it must be the checkpoint.npz of the cnn script") from None
    state = {k[len("model."):]: v for k, v in saved.items() if k.startswith("model.")}
    expected = model.state_dict()
    if set(state) != set(expected) or any(state[k].shape != expected[k].shape for k in expected):
        raise OptionError(f"trained_cnn: checkpoint {path!r} must hold the cnn for {data.name or 'the'} "
                          f"images {data.image_shape} with {data.num_classes} classes, "
                          f"got a different network")
    return state


def class_probabilities(model, X, batch_size=500):
    """Softmax class probabilities (N, K) of images ``X`` (N, C, H, W)."""
    with mg.no_grad():
        return np.concatenate([model(mg.Tensor(X[i:i + batch_size])).softmax(axis=1).data
                               for i in range(0, len(X), batch_size)])


def score_gradient(model, X, classes, log_prob=False):
    """Scores (N, K) of ``X`` (N, C, H, W) and the gradient (N, C, H, W) of each image's ``classes`` score.

    With ``log_prob`` the gradient is that of the log softmax probability of
    the class instead of its raw score.
    One backward pass serves the whole batch: in eval mode image ``n``'s
    scores depend on image ``n`` only, so d(sum_n s_n[c_n]) / dX_n = ds_n[c_n] / dX_n.
    """
    x = mg.Tensor(X, requires_grad=True)
    scores = model(x)
    objective = scores.log_softmax(axis=1) if log_prob else scores
    pick = np.zeros(scores.shape, scores.dtype)
    pick[np.arange(len(X)), classes] = 1.0
    (objective * mg.Tensor(pick)).sum().backward()
    return scores.data, x.grad


def _unit(g):
    """Each image's gradient divided by its L2 norm: steps of a fixed size whatever the score's scale."""
    norms = np.sqrt((g.reshape(len(g), -1) ** 2).sum(axis=1)).reshape(-1, *([1] * (g.ndim - 1)))
    return g / np.maximum(norms, 1e-12)


# ----------------------------------------------------------------------------- the three methods

def saliency_maps(model, X, y):
    """Saliency ``max_c |d score_y / d X[:, c]|`` (N, H, W) of images ``X`` (N, C, H, W) for labels ``y``."""
    _, grad = score_gradient(model, X, y)
    return np.abs(grad).max(axis=1)


def class_visualisation(model, classes, image_shape, steps, rng):
    """Images (len(classes), C, H, W) in [0, 1] that maximise each class's score.

    Gradient ascent on ``score_c(x) - CLASS_L2 * ||x||^2`` with normalised
    steps; before each step the images are rolled by a random jitter (undone
    after it) and every ``CLASS_BLUR_EVERY`` steps they are blurred, which keeps
    the high-frequency patterns that fool the net out of the picture.
    """
    steps = check_int("class_visualisation", "steps", steps, low=0)
    classes = np.asarray(classes)
    X = (0.01 * rng.standard_normal((len(classes), *image_shape)) + 0.5).astype(np.float32)
    for step in range(steps):
        dy, dx = rng.integers(-CLASS_JITTER, CLASS_JITTER + 1, size=2)
        X = np.roll(X, (dy, dx), axis=(2, 3))
        _, grad = score_gradient(model, X, classes)
        grad = grad - 2.0 * CLASS_L2 * X  # gradient of the L2 penalty
        X = np.roll(X + CLASS_LR * _unit(grad), (-dy, -dx), axis=(2, 3))
        X = np.clip(X, 0.0, 1.0)
        if (step + 1) % CLASS_BLUR_EVERY == 0:
            X = gaussian_filter(X, sigma=(0, 0, CLASS_BLUR_SIGMA, CLASS_BLUR_SIGMA))
    return X.astype(np.float32)


def fooling_images(model, X, targets, steps):
    """Push each image of ``X`` (N, C, H, W) in [0, 1] until the net predicts its ``targets`` class.

    Normalised gradient ascent on the log probability of the target (which
    also pushes the competing scores down: it flipped the net's decision with
    about 20 % fewer steps and a smaller change than the raw target score),
    pixels kept in [0, 1]; an image stops changing as soon as it is classified
    as its target.

    Returns
    -------
    fooled : (N, C, H, W) the final images
    iterations : (N,) int, steps taken (``steps`` + 1 where the net never flipped)
    success : (N,) bool, whether the net predicts the target for the final image
    """
    steps = check_int("fooling_images", "steps", steps, low=0)
    fooled = X.astype(np.float32).copy()
    iterations = np.full(len(X), steps + 1)
    active = np.arange(len(X))
    for step in range(steps + 1):
        scores, grad = score_gradient(model, fooled[active], targets[active], log_prob=True)
        done = scores.argmax(axis=1) == targets[active]
        iterations[active[done]] = step
        active, grad = active[~done], grad[~done]
        if len(active) == 0 or step == steps:
            break
        fooled[active] = np.clip(fooled[active] + FOOL_LR * _unit(grad), 0.0, 1.0)
    success = class_probabilities(model, fooled).argmax(axis=1) == targets
    return fooled, iterations, success


# ----------------------------------------------------------------------------- the script

def _one_per_class(y, num_classes):
    """Index of the first example of each class in ``y`` (classes absent from ``y`` are skipped)."""
    return np.array([np.flatnonzero(y == c)[0] for c in range(num_classes) if np.any(y == c)])


def main(args):
    data = load_data(args)
    rng = np.random.default_rng(args.seed)
    with single_threaded_blas():
        model, source = trained_cnn(data, args, args.epochs, args.batch_size, args.lr)
        test_accuracy = accuracy(model, data.X_test, data.y_test)

        pick = _one_per_class(data.y_test, data.num_classes)
        X, y = data.X_test[pick], data.y_test[pick]
        saliency = saliency_maps(model, X, y)

        classes = np.arange(data.num_classes)
        dreams = class_visualisation(model, classes, data.image_shape, args.class_steps, rng)
        dream_confidence = class_probabilities(model, dreams)[classes, classes]

        correct = class_probabilities(model, X).argmax(axis=1) == y
        X_ok, y_ok = X[correct], y[correct]
        targets = (y_ok + 1) % data.num_classes
        fooled, iterations, success = fooling_images(model, X_ok, targets, args.fooling_steps)

    change = (fooled - X_ok).reshape(len(X_ok), -1)
    relative_l2 = np.linalg.norm(change, axis=1) / np.linalg.norm(X_ok.reshape(len(X_ok), -1), axis=1)
    names = data.class_names
    plots.image_grid(f"{args.out}/saliency.png", np.concatenate([X[:, 0], saliency]), ncols=len(X),
                     titles=[names[c] for c in y] + [""] * len(X),
                     title="test images (top) and saliency |d score / d pixel| (bottom)")
    plots.image_grid(f"{args.out}/class_visualisation.png", dreams, ncols=len(classes),
                     titles=[f"{names[c]} {p:.2f}" for c, p in zip(classes, dream_confidence)],
                     title="gradient ascent on each class score (with its softmax probability)")
    plots.image_grid(f"{args.out}/fooling.png",
                     np.concatenate([X_ok[:, 0], fooled[:, 0], (fooled - X_ok)[:, 0]]),
                     ncols=len(X_ok),
                     titles=([names[c] for c in y_ok] + [f"-> {names[t]}" for t in targets]
                             + [f"{k} steps" for k in iterations]),
                     title="originals, images classified as the target, their difference (rescaled)")
    # The classifier, so that this script's results can be reproduced without retraining.
    save_checkpoint(args, **{f"model.{k}": v for k, v in model.state_dict().items()})
    return {
        "classifier": source,
        "test_accuracy": test_accuracy,
        "class_visualisation_confidence": dream_confidence,
        "fooling_success_rate": float(success.mean()) if len(success) else 0.0,
        "fooling_iterations": iterations,
        "fooling_relative_l2_change": relative_l2,
        "fooling_mean_relative_l2_change": float(relative_l2.mean()) if len(relative_l2) else 0.0,
        "fooling_mean_abs_pixel_change": float(np.abs(change).mean()) if change.size else 0.0,
        "fooling_max_pixel_change": float(np.abs(change).max()) if change.size else 0.0,
    }

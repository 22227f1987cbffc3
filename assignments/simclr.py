"""Self-supervised pretraining by contrast (SimCLR, or MoCo with ``--set method=moco``), judged by linear probes.

The network is the ``cnn`` script's: an encoder ``conv3x3(32) - BN - ReLU -
pool -> conv3x3(64) - BN - ReLU - pool -> fc128 - ReLU`` giving a
representation h (N, 128), followed, for pretraining only, by a projection
head ``fc128 - ReLU - fc64`` giving z (N, 64) (``--set projection=``).
Pretraining sees the training images without their labels. Each batch of N
images gives two views (``augment.contrastive_augmentation``: a random
resized crop of 50-100 % of the area, a shift of up to 2 px, a rotation of
up to 10 degrees, Gaussian noise of std 0.05), encoded together as one batch
of 2N, so batch norm normalises both views with the same statistics.

- SimCLR (Chen et al., 2020): ``layers.nt_xent_loss`` of the two views'
  projections (N, 64) each: every view must pick its partner out of the other
  2N - 2 views of the batch, by cosine similarity over the temperature
  (default 0.5).
- MoCo (He et al., 2020; v2's head and temperature 0.2): the key encoder is a
  copy of the whole network whose weights follow the trained (query) network
  as an exponential moving average (``optim.ExponentialMovingAverage``, decay
  ``momentum``), updated after every step and never trained. The queries of
  both views (2N, 64) are scored by ``layers.info_nce_loss`` against the key
  encoder's embedding of the other view (the positive, computed without a
  graph) and against ``queue`` keys of earlier batches (the negatives). After
  each step the keys of the batch's second views (N rows, unit length) enter
  the queue, newest first, and as many of the oldest leave it. The queue
  starts as random unit vectors. Symmetrising the loss (both views as
  queries) doubles the signal per step; MoCo v3 does the same.

Evaluation, on frozen features (eval mode, batch norm with its running
statistics): a linear probe, softmax regression on the 128-d representation
standardised with the probe set's mean and deviation, trained on the 500
labelled validation images and tested on the 500 test images
(:func:`linear_probe`: L-BFGS to the optimum of the mean cross-entropy plus
an L2 penalty of ``1 / (2 n)`` times the squared weights, scikit-learn's
``LogisticRegression(C=1)``). Beside it: the same probe on the encoder at its
initial (random) weights and on the raw pixels, and the same network trained
supervised on those 500 labels alone (the ``cnn`` script's ConvNet and
its +-2 px shifts, ``supervised_epochs`` epochs of batches of 50, no model
selection). Pictures: the per-step loss, images beside two augmented views of
each, and the test images' representations on their first two principal
axes, coloured by class, for the pretrained and the random encoder.

The default SimCLR run (40 epochs, seed 0; 493 s on one thread of a busy
2-core machine) reached a probe of 94.4 % against 84.4 % for the random
encoder, 82.4 % on pixels and 95.6 % supervised; its PyTorch twin
(``benchmarks/twins/simclr.py``) 94.2 %. With seed 1: 93.4 % against the
twin's 95.0 %. At 20 epochs the probe was 91.6 % against the twin's 93.0 %:
the loss still fell, and the draw of the initial weights mattered more.
MoCo at 40 epochs: 91.2 %.
"""
import copy
import time
from types import SimpleNamespace

import numpy as np

import minigrad as mg
from layers import (
    BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, cross_entropy, info_nce_loss, nt_xent_loss,
)
from layers.contrastive import NORM_EPS
from minigrad.validation import as_generator, check_int, check_int_sequence
from optim import Adam, check_step
from optim.ema import ExponentialMovingAverage

from . import plots
from .augment import contrastive_augmentation, two_views
from .autoencoder import latent_scatter, principal_axes
from .cli import load_data, progress, save_checkpoint
from .models import ConvNet, accuracy, check_image_shape
from .settings import choice, declare, integer, integers, number, optional, positive, training

DESCRIPTION = "SimCLR / MoCo pretraining of the cnn's encoder; linear probes vs random encoder, pixels, supervised"
METHODS = ("simclr", "moco")
DEFAULTS = training(epochs=40, batch_size=256, lr=1e-3)
CHANNELS, HIDDEN = (32, 64), 128  # the cnn script's encoder
TEMPERATURES = {"simclr": 0.5, "moco": 0.2}  # the default of each method
OPTIONS = declare(method=choice("simclr", METHODS), temperature=optional(positive(None)),
                  projection=integers((128, 64), low=1), queue=integer(1024, low=1),
                  momentum=number(0.99, low=0, high=1), supervised_epochs=integer(60, low=1))
SUPERVISED_BATCH, SUPERVISED_LR, SHIFT = 50, 1e-3, 2
SHOWN = 8  # images drawn with their two views


class ContrastiveNet(mg.Module):
    """The encoder and projection head of the module docstring.

    Parameters
    ----------
    image_shape : (C, H, W)
    channels : (int, int)
        Filters of the two convolutions.
    hidden : int
        Width of the representation h (the encoder's last layer).
    projection : sequence of int, at least one
        Widths of the projection head's layers, ReLU between them (not after the last).
    rng : numpy Generator, int or None

    ``forward(x (N, C, H, W)) -> z (N, projection[-1])``; ``encoder(x) -> h (N, hidden)``.
    """

    def __init__(self, image_shape, channels=CHANNELS, hidden=HIDDEN, projection=(128, 64), rng=None):
        super().__init__()
        func = "ContrastiveNet"
        c, h, w = check_image_shape(func, image_shape)
        c1, c2 = check_int_sequence(func, "channels", channels, low=1)
        hidden = check_int(func, "hidden", hidden, low=1)
        projection = check_int_sequence(func, "projection", projection, low=1)
        if not projection:
            raise ValueError(f"{func}: projection must list at least one width, got {projection!r}")
        rng = as_generator(func, "rng", rng)
        self.encoder = Sequential(
            Conv2d(c, c1, 3, padding=1, rng=rng), BatchNorm2d(c1), ReLU(), MaxPool2d(2),
            Conv2d(c1, c2, 3, padding=1, rng=rng), BatchNorm2d(c2), ReLU(), MaxPool2d(2),
            Flatten(), Linear(c2 * (h // 4) * (w // 4), hidden, rng=rng), ReLU())
        head, width = [], hidden
        for i, out in enumerate(projection):
            head += [Linear(width, out, rng=rng)] + ([ReLU()] if i < len(projection) - 1 else [])
            width = out
        self.projection = Sequential(*head)

    def forward(self, x):
        return self.projection(self.encoder(x))


def representations(encoder, X, batch_size=500):
    """The frozen features ``encoder(X)`` (N, D) in eval mode, without a graph (training mode restored)."""
    was_training = encoder.training
    encoder.eval()
    with mg.no_grad():
        h = np.concatenate([encoder(mg.Tensor(X[i:i + batch_size])).data for i in range(0, len(X), batch_size)])
    encoder.train(was_training)
    return h


def linear_probe(train_features, y_train, test_features, y_test, num_classes=10):
    """Softmax regression on frozen features: ``(train accuracy, test accuracy)``.

    The features (N, D) are standardised with the training set's mean and
    standard deviation (a constant feature is left centred), then the weights
    (D, num_classes) and biases minimise the mean cross-entropy plus
    ``||W||^2 / (2 N_train)`` (scikit-learn's ``LogisticRegression(C=1)``),
    by L-BFGS from zero to convergence in float64. The objective is convex,
    so the probe measures the features, not its optimiser.
    """
    from scipy.optimize import minimize

    from layers.losses import cross_entropy_backward, cross_entropy_forward

    mean = train_features.mean(axis=0)
    std = train_features.std(axis=0)
    std = np.where(std > 1e-8, std, 1.0)
    A = (train_features.astype(np.float64) - mean) / std
    B = (test_features.astype(np.float64) - mean) / std
    n, d = A.shape
    l2 = 1.0 / n

    def objective(theta):
        W, b = theta[:d * num_classes].reshape(d, num_classes), theta[d * num_classes:]
        loss, cache = cross_entropy_forward(A @ W + b, y_train)
        dscores = cross_entropy_backward(np.array(1.0), cache)[0]
        grad = np.concatenate([(A.T @ dscores + l2 * W).ravel(), dscores.sum(axis=0)])
        return float(loss) + 0.5 * l2 * float(np.sum(W * W)), grad

    theta = minimize(objective, np.zeros(d * num_classes + num_classes), jac=True, method="L-BFGS-B",
                     options={"maxiter": 2000}).x
    W, b = theta[:d * num_classes].reshape(d, num_classes), theta[d * num_classes:]
    return (float(np.mean((A @ W + b).argmax(axis=1) == y_train)),
            float(np.mean((B @ W + b).argmax(axis=1) == y_test)))


def enqueue(queue, keys):
    """MoCo's queue after a step: ``keys`` (n, D) first, newest first, then the old rows
    that still fit; the oldest leave. Returns a new (K, D) array."""
    return np.concatenate([keys, queue])[:len(queue)]


def unit_rows(x):
    """The rows of ``x`` (M, D) scaled to length 1 (divided by at least NORM_EPS, as the losses do)."""
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), x.dtype.type(NORM_EPS))


def initial_queue(size, dim, dtype, rng):
    """``size`` random unit vectors (size, dim): the queue before any key arrives."""
    return unit_rows(rng.standard_normal((size, dim)).astype(dtype))


def temperature(args):
    """The run's temperature: ``--set temperature`` or the method's default."""
    return TEMPERATURES[args.method] if args.temperature is None else args.temperature


def pretrain(model, X, args):
    """Contrastive pretraining of ``model`` (a ContrastiveNet) on the images ``X`` (N, C, H, W).

    Adam with ``args.lr`` for ``args.epochs`` epochs of batches of
    ``args.batch_size``. Per epoch a permutation from ``default_rng(seed)``;
    per batch the two views from ``default_rng(seed + 1)``; the MoCo queue
    starts from ``default_rng(seed + 2)``.

    Returns
    -------
    SimpleNamespace with ``losses`` (per step), and for MoCo ``key_model``
    (the key encoder) and ``queue`` (K, D); None for SimCLR.
    """
    optimizer = Adam(model.parameters(), lr=args.lr)
    transform = contrastive_augmentation()
    order_rng, view_rng = np.random.default_rng(args.seed), np.random.default_rng(args.seed + 1)
    tau = temperature(args)
    key_model = queue = ema = None
    if args.method == "moco":
        key_model = copy.deepcopy(model)
        ema = ExponentialMovingAverage(model, decay=args.momentum)
        queue = initial_queue(args.queue, args.projection[-1], X.dtype, np.random.default_rng(args.seed + 2))
    losses = []
    for epoch in progress(range(1, args.epochs + 1), desc=args.method):
        order = order_rng.permutation(len(X))
        for start in range(0, len(X), args.batch_size):
            first, second = two_views(X[order[start:start + args.batch_size]], transform, rng=view_rng)
            n = len(first)
            z = model(mg.Tensor(np.concatenate([first, second])))
            if args.method == "simclr":
                loss = nt_xent_loss(z[:n], z[n:], tau)
            else:
                with mg.no_grad():
                    keys = key_model(mg.Tensor(np.concatenate([second, first]))).data
                loss = info_nce_loss(z, keys, queue, tau)
            losses.append(check_step(args.method, loss.item(), len(losses) + 1, epoch, args.lr))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if ema is not None:
                ema.update()
                ema.copy_to(key_model)
                queue = enqueue(queue, unit_rows(keys[:n]))
    return SimpleNamespace(losses=losses, key_model=key_model, queue=queue)


def train_supervised(data, args):
    """The cnn script's ConvNet (the same encoder plus fc10) trained on the 500 labelled
    validation images only; returns ``(model, seconds)``."""
    model = ConvNet(data.image_shape, data.num_classes, CHANNELS, HIDDEN, shift=SHIFT, rng=args.seed)
    optimizer = Adam(model.parameters(), lr=SUPERVISED_LR)
    rng = np.random.default_rng(args.seed + 3)
    start = time.perf_counter()
    for epoch in progress(range(1, args.supervised_epochs + 1), desc="supervised"):
        order = rng.permutation(len(data.X_val))
        for i in range(0, len(order), SUPERVISED_BATCH):
            batch = order[i:i + SUPERVISED_BATCH]
            loss = cross_entropy(model(mg.Tensor(data.X_val[batch])), data.y_val[batch])
            check_step("supervised", loss.item(), i // SUPERVISED_BATCH + 1, epoch, SUPERVISED_LR)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model, time.perf_counter() - start


def probes(encoder, data):
    """``{train, test}`` accuracies of the linear probe on ``encoder``'s representations."""
    train, test = linear_probe(representations(encoder, data.X_val), data.y_val,
                               representations(encoder, data.X_test), data.y_test, data.num_classes)
    return {"train": train, "test": test}


def main(args):
    data = load_data(args)
    tau = temperature(args)
    # BLAS keeps its default threads, as in the cnn script: a step encodes 2 x 256 images.
    random_net = ContrastiveNet(data.image_shape, projection=args.projection, rng=args.seed)
    model = ContrastiveNet(data.image_shape, projection=args.projection, rng=args.seed)
    start = time.perf_counter()
    result = pretrain(model, data.X_train, args)
    seconds = time.perf_counter() - start

    pretrained, random = probes(model.encoder, data), probes(random_net.encoder, data)
    flat = lambda X: X.reshape(len(X), -1)  # noqa: E731
    pixels = dict(zip(("train", "test"), linear_probe(flat(data.X_val), data.y_val, flat(data.X_test), data.y_test,
                                                      data.num_classes)))
    supervised, supervised_seconds = train_supervised(data, args)
    steps = -(-len(data.X_train) // args.batch_size)
    metrics = {
        "method": args.method,
        "temperature": tau,
        "test_accuracy_probe": pretrained["test"],
        "test_accuracy_random_encoder": random["test"],
        "test_accuracy_raw_pixels": pixels["test"],
        "test_accuracy_supervised": accuracy(supervised, data.X_test, data.y_test),
        "probe_train_accuracy": {"pretrained": pretrained["train"], "random_encoder": random["train"],
                                 "raw_pixels": pixels["train"],
                                 "supervised": accuracy(supervised, data.X_val, data.y_val)},
        "losses": result.losses,
        "epoch_losses": [float(np.mean(result.losses[i:i + steps])) for i in range(0, len(result.losses), steps)],
        "train_seconds": seconds,
        "supervised_seconds": supervised_seconds,
    }

    out = args.out
    plots.curves(f"{out}/loss.png", {f"{args.method} (tau {tau:g})": result.losses}, "step",
                 "NT-Xent" if args.method == "simclr" else "InfoNCE",
                 f"linear probe: {metrics['test_accuracy_probe']:.1%} "
                 f"(random encoder {metrics['test_accuracy_random_encoder']:.1%})")
    shown = data.X_train[:SHOWN]
    first, second = two_views(shown, contrastive_augmentation(), rng=args.seed + 4)
    plots.image_grid(f"{out}/views.png", np.concatenate([shown, first, second]), ncols=SHOWN,
                     title="training digits (top) and two augmented views of each")
    for name, net in (("pretrained", model), ("random", random_net)):
        latent_scatter(f"{out}/embedding_{name}.png", principal_axes(representations(net.encoder, data.X_test)),
                       data.y_test, f"{name} encoder: test features, 2 principal axes")
    arrays = {f"model.{k}": v for k, v in model.state_dict().items()}
    if result.key_model is not None:
        arrays.update({f"key.{k}": v for k, v in result.key_model.state_dict().items()}, queue=result.queue)
    save_checkpoint(args, **arrays)
    return metrics

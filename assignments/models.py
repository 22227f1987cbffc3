"""The networks of the course scripts, and the routines that train and test the classifiers.

Every classifier (``FullyConnectedNet``, ``ConvNet``, ``RecurrentClassifier``,
``VisionTransformer``) maps a batch of images ``(N, C, H, W)`` to class scores
``(N, num_classes)``, so all of them train with the same :class:`optim.Solver`
loop in :func:`fit` and are tested by :func:`report`. The ``VAE`` is a
generative model with its own loss, :func:`negative_elbo`.
"""
import time

import numpy as np

import minigrad as mg
from minigrad.validation import as_generator, check_choice, check_int, check_int_sequence, check_number
from layers.activations import ReLU
from layers.affine import Linear
from layers.container import Flatten, Sequential
from layers.conv import Conv2d
from layers.dropout import Dropout
from layers.losses import binary_cross_entropy_with_logits, cross_entropy
from layers.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from layers.pooling import MaxPool2d
from layers.recurrent import LSTM, RNN
from layers.transformer import TransformerEncoderLayer
from optim import Solver, plot_history

from . import reporting
from .data import random_crop

NORMALIZATIONS = (None, "batchnorm", "layernorm")


class FullyConnectedNet(mg.Module):
    """``{affine - [norm] - relu - [dropout]} x (L - 1) - affine`` (CS231n's FullyConnectedNet).

    Parameters
    ----------
    input_dim : int
        Features per example; inputs ``(N, ...)`` are flattened to ``(N, input_dim)``.
    hidden_dims : sequence of int
        Width of each hidden layer (any number, including none: softmax regression).
    num_classes : int
    normalization : None, "batchnorm" or "layernorm"
        Normalisation after every hidden affine layer.
    dropout : float in [0, 1)
        Drop probability after every hidden ReLU (0: no dropout layers).
    rng : numpy Generator
        Draws the initial weights and the dropout masks.
    """

    def __init__(self, input_dim, hidden_dims, num_classes, normalization=None, dropout=0.0, rng=None):
        super().__init__()
        name = "FullyConnectedNet"
        input_dim = check_int(name, "input_dim", input_dim, low=1)
        hidden_dims = check_int_sequence(name, "hidden_dims", hidden_dims, low=1)
        num_classes = check_int(name, "num_classes", num_classes, low=1)
        normalization = check_choice(name, "normalization", normalization, NORMALIZATIONS)
        dropout = check_number(name, "dropout", dropout, low=0.0, high=1.0, high_open=True)
        rng = as_generator(name, "rng", rng)
        self.hidden_dims, self.normalization, self.dropout = hidden_dims, normalization, dropout
        stack = [Flatten()]
        width = input_dim
        for hidden in self.hidden_dims:
            stack.append(Linear(width, hidden, rng=rng))
            if normalization == "batchnorm":
                stack.append(BatchNorm1d(hidden))
            elif normalization == "layernorm":
                stack.append(LayerNorm(hidden))
            stack.append(ReLU())
            if dropout > 0:
                stack.append(Dropout(dropout, rng=rng))
            width = hidden
        stack.append(Linear(width, num_classes, rng=rng))
        self.net = Sequential(*stack)

    def forward(self, x):
        """x : (N, ...) with input_dim features per example -> scores (N, num_classes)."""
        return self.net(x)

    def extra_repr(self):
        return f"hidden_dims={self.hidden_dims}, normalization={self.normalization}, dropout={self.dropout}"


class ConvNet(mg.Module):
    """``{conv3x3 - batchnorm - relu - maxpool2x2} x 2 - affine - relu - affine``.

    Parameters
    ----------
    image_shape : (C, H, W)
    num_classes : int
    channels : (int, int)
        Filters of the two convolutions (3x3, padding 1: sizes kept until pooling halves them).
    hidden : int
        Width of the fully connected layer.
    shift : int
        In training mode, translate each input image by up to ``shift`` pixels
        (see :class:`RandomShift`); 0 disables it.
    rng : numpy Generator, int or None
        Draws the initial weights and the shifts.
    """

    def __init__(self, image_shape, num_classes, channels=(32, 64), hidden=128, shift=0, rng=None):
        super().__init__()
        c, h, w = check_image_shape("ConvNet", image_shape)
        num_classes = check_int("ConvNet", "num_classes", num_classes, low=1)
        channels = _check_sizes("ConvNet", "channels", channels, "(int, int)")
        hidden = check_int("ConvNet", "hidden", hidden, low=1)
        shift = check_int("ConvNet", "shift", shift, low=0)
        rng = as_generator("ConvNet", "rng", rng)
        self.shift = RandomShift(shift, rng) if shift else None
        self.features = Sequential(
            Conv2d(c, channels[0], 3, padding=1, rng=rng), BatchNorm2d(channels[0]), ReLU(), MaxPool2d(2),
            Conv2d(channels[0], channels[1], 3, padding=1, rng=rng), BatchNorm2d(channels[1]), ReLU(),
            MaxPool2d(2),
        )
        self.classifier = Sequential(
            Flatten(), Linear(channels[1] * (h // 4) * (w // 4), hidden, rng=rng), ReLU(),
            Linear(hidden, num_classes, rng=rng),
        )

    def forward(self, x):
        """x : (N, C, H, W) -> scores (N, num_classes)."""
        if self.shift is not None:
            x = self.shift(x)
        return self.classifier(self.features(x))


class RandomShift(mg.Module):
    """Data augmentation as a layer: in training mode, shift each image by up to ``pixels``.

    Each image moves by a random whole number of pixels in ``[-pixels, pixels]``
    along each axis, the uncovered border filled with zeros; in eval mode the
    input passes unchanged. Living in the model, it runs on every training
    batch of any training loop, and its generator is saved with the model's
    training state. The input is data, so no gradient flows through it.
    """

    def __init__(self, pixels, rng=None):
        super().__init__()
        self.pixels = check_int("RandomShift", "pixels", pixels, low=0)
        self.rng = as_generator("RandomShift", "rng", rng)

    def forward(self, x):
        """x : Tensor (N, C, H, W) -> Tensor (N, C, H, W)."""
        if not self.training or self.pixels == 0:
            return x
        return mg.Tensor(random_crop(x.data, self.pixels, self.rng))

    def extra_repr(self):
        return f"pixels={self.pixels}"


class RecurrentClassifier(mg.Module):
    """Read an image row by row with a recurrent layer; classify from the last hidden state.

    Parameters
    ----------
    image_shape : (C, H, W)
        Each of the H rows is one time step of C * W features (sequential MNIST: 28 x 28).
    num_classes : int
    cell : "rnn" or "lstm"
    hidden : int
    rng : numpy Generator, int or None
    """

    CELLS = {"rnn": RNN, "lstm": LSTM}

    def __init__(self, image_shape, num_classes, cell="lstm", hidden=128, rng=None):
        super().__init__()
        check_choice("RecurrentClassifier", "cell", cell, tuple(sorted(self.CELLS)))
        image_shape = check_image_shape("RecurrentClassifier", image_shape)
        num_classes = check_int("RecurrentClassifier", "num_classes", num_classes, low=1)
        hidden = check_int("RecurrentClassifier", "hidden", hidden, low=1)
        rng = as_generator("RecurrentClassifier", "rng", rng)
        self.cell = cell
        self.recurrent = self.CELLS[cell](image_shape[0] * image_shape[2], hidden, rng=rng)
        self.head = Linear(hidden, num_classes, rng=rng)

    def forward(self, x):
        """x : (N, C, H, W) -> scores (N, num_classes)."""
        n, c, h, w = x.shape
        rows = x.reshape(n, h, w) if c == 1 else x.permute(0, 2, 1, 3).reshape(n, h, c * w)
        states, _ = self.recurrent(rows)
        return self.head(states[:, -1])


class VisionTransformer(mg.Module):
    """A small ViT: image patches as tokens, pre-norm encoder layers, mean-pooled tokens -> classes.

    Parameters
    ----------
    image_shape : (C, H, W)
        H and W must be multiples of ``patch``.
    num_classes : int
    patch : int
        Side of the square, non-overlapping patches; each becomes one token.
    embed_dim, depth, num_heads : int
        Token width, number of encoder layers, attention heads per layer.
    mlp_ratio : int
        Feed-forward width is ``mlp_ratio * embed_dim``.
    dropout : float
    rng : numpy Generator, int or None

    Attributes
    ----------
    position : Parameter (1, num_patches, embed_dim)
        Learned position embedding, initialised N(0, 0.02^2) as in ViT.
    """

    def __init__(self, image_shape, num_classes, patch=7, embed_dim=64, depth=2, num_heads=4,
                 mlp_ratio=2, dropout=0.0, rng=None):
        super().__init__()
        name = "VisionTransformer"
        c, h, w = check_image_shape(name, image_shape)
        patch = check_int(name, "patch", patch, low=1)
        if h % patch or w % patch:  # the one check of it; the transformer script reports it as an option
            raise ValueError(f"{name}: patch must divide the image size {h}x{w}, got {patch}")
        num_classes = check_int(name, "num_classes", num_classes, low=1)
        embed_dim, depth, num_heads, mlp_ratio = (check_int(name, arg, value, low=1) for arg, value in (
            ("embed_dim", embed_dim), ("depth", depth), ("num_heads", num_heads), ("mlp_ratio", mlp_ratio)))
        dropout = check_number(name, "dropout", dropout, low=0.0, high=1.0, high_open=True)
        rng = as_generator(name, "rng", rng)
        self.patch, self.grid = patch, (h // patch, w // patch)
        self.embed = Linear(c * patch * patch, embed_dim, rng=rng)
        self.position = mg.Parameter(
            (0.02 * rng.standard_normal((1, self.grid[0] * self.grid[1], embed_dim))).astype(np.float32))
        # Pre-norm layers train stably without a learning-rate warm-up.
        self.blocks = [TransformerEncoderLayer(embed_dim, num_heads, mlp_ratio * embed_dim, dropout,
                                               activation="gelu", norm_first=True, rng=rng)
                       for _ in range(depth)]
        self.norm = LayerNorm(embed_dim)
        self.head = Linear(embed_dim, num_classes, rng=rng)

    def patches(self, x):
        """x : (N, C, H, W) -> (N, num_patches, C * patch * patch), patches in row-major order."""
        n, c, _, _ = x.shape
        (gh, gw), p = self.grid, self.patch
        return x.reshape(n, c, gh, p, gw, p).permute(0, 2, 4, 1, 3, 5).reshape(n, gh * gw, c * p * p)

    def forward(self, x):
        """x : (N, C, H, W) -> scores (N, num_classes)."""
        tokens = self.embed(self.patches(x)) + self.position
        for block in self.blocks:
            tokens = block(tokens)
        return self.head(self.norm(tokens).mean(axis=1))


class VAE(mg.Module):
    """Variational autoencoder ``D - hidden - latent`` with a Bernoulli decoder (Kingma & Welling).

    The encoder maps ``x`` to the mean and log-variance of a diagonal Gaussian
    ``q(z | x)``; the decoder maps ``z`` to the logits of independent
    Bernoulli pixels ``p(x | z)``.

    Parameters
    ----------
    input_dim, hidden, latent : int
    rng : numpy Generator, int or None
        Initial weights and the noise of the reparameterisation.
    """

    def __init__(self, input_dim, hidden=400, latent=20, rng=None):
        super().__init__()
        input_dim, hidden, latent = (check_int("VAE", arg, value, low=1) for arg, value in (
            ("input_dim", input_dim), ("hidden", hidden), ("latent", latent)))
        self.rng = as_generator("VAE", "rng", rng)
        self.latent = latent
        self.encoder = Sequential(Flatten(), Linear(input_dim, hidden, rng=self.rng), ReLU())
        self.mean = Linear(hidden, latent, rng=self.rng)
        self.log_var = Linear(hidden, latent, rng=self.rng)
        self.decoder = Sequential(Linear(latent, hidden, rng=self.rng), ReLU(),
                                  Linear(hidden, input_dim, rng=self.rng))

    def encode(self, x):
        """x : (N, ...) -> (mean, log_var), each (N, latent)."""
        h = self.encoder(x)
        return self.mean(h), self.log_var(h)

    def forward(self, x):
        """x : (N, ...) -> (logits (N, input_dim), mean, log_var), with one sample ``z ~ q(z | x)``."""
        mean, log_var = self.encode(x)
        # Reparameterisation: z = mean + sigma * eps keeps z differentiable in mean and log_var.
        eps = self.rng.standard_normal(mean.shape).astype(mean.dtype)
        z = mean + (0.5 * log_var).exp() * mg.Tensor(eps)
        return self.decoder(z), mean, log_var


def conv_bn_relu(in_channels, out_channels, rng):
    """[3x3 convolution (padding 1, no bias: batch norm's shift is the bias), batch norm, ReLU]."""
    return [Conv2d(in_channels, out_channels, 3, padding=1, bias=False, rng=rng), BatchNorm2d(out_channels), ReLU()]


def check_image_shape(func, image_shape):
    """``image_shape`` as a tuple ``(C, H, W)`` of ints >= 1 (TypeError for a non-sequence)."""
    return _check_sizes(func, "image_shape", image_shape, "(C, H, W)")


def _check_sizes(func, name, value, layout):
    """``value`` as a tuple of ints >= 1, one per entry of ``layout`` (e.g. ``"(C, H, W)"``)."""
    sizes = check_int_sequence(func, name, value, low=1)
    if len(sizes) != layout.count(",") + 1:
        raise ValueError(f"{func}: {name} must be {layout}, got {value!r}")
    return sizes


def negative_elbo(model, x):
    """Mean over the batch of ``BCE(x, decoder(z)) + KL(q(z | x) || N(0, I))``, in nats.

    x : (N, ...) floats in [0, 1]. Returns a scalar Tensor; ``-value`` estimates
    the evidence lower bound with one sample of ``z`` per example.
    """
    n = x.shape[0]
    logits, mean, log_var = model(x)
    reconstruction = binary_cross_entropy_with_logits(logits, x.reshape(n, -1), reduction="sum")
    kl = -0.5 * (1.0 + log_var - mean * mean - log_var.exp()).sum()
    return (reconstruction + kl) / n


def accuracy(model, X, y, batch_size=500):
    """Fraction of examples ``X`` (N, ...) whose highest score is their label ``y`` (N,), in eval mode."""
    was_training = model.training
    model.eval()
    with mg.no_grad():
        predictions = np.concatenate([model(mg.Tensor(X[i:i + batch_size])).data.argmax(axis=1)
                                      for i in range(0, len(X), batch_size)])
    model.train(was_training)
    return float(np.mean(predictions == y))


def fit(model, optimizer, X_train, y_train, X_val, y_val, args, *, progress=None, **solver_options):
    """Train ``model`` with a :class:`optim.Solver` on cross-entropy for ``args.epochs`` epochs.

    The best epoch by validation accuracy is restored at the end;
    ``solver_options`` (e.g. ``schedule``, ``clip_grad_norm``) go to the Solver.
    Every epoch's validation accuracy and loss are reported to a listening
    sweep (:mod:`assignments.reporting`).

    Returns
    -------
    solver : Solver
        With ``history``; ``train_seconds`` and ``train_cpu_seconds`` are the wall
        and CPU time of training (on a shared machine the two can differ several-fold).
    """
    data = {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}
    solver = Solver(model, data, optimizer, cross_entropy, batch_size=args.batch_size, epochs=args.epochs,
                    seed=args.seed, eval_batch_size=500, progress=progress,
                    on_epoch=reporting.solver_epoch, **solver_options)
    start, cpu_start = time.perf_counter(), time.process_time()
    solver.train()
    solver.train_seconds = time.perf_counter() - start
    solver.train_cpu_seconds = time.process_time() - cpu_start
    return solver


def report(solver, X_test, y_test, out_dir):
    """Test the trained model, plot its history into ``out_dir``; return the common metrics."""
    plot_history(solver.history, out_dir)
    return {
        "train_accuracy": solver.history["train_acc"][solver.best_epoch - 1],
        "val_accuracy": solver.history["val_acc"][solver.best_epoch - 1],
        "test_accuracy": accuracy(solver.model, X_test, y_test),
        "best_epoch": solver.best_epoch,
        "train_acc_history": solver.history["train_acc"],
        "val_acc_history": solver.history["val_acc"],
        "train_seconds": solver.train_seconds,
        "train_cpu_seconds": solver.train_cpu_seconds,
    }

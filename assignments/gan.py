"""A generative adversarial network of two multilayer perceptrons (Goodfellow et al., 2014).

CS231n's architecture: generator ``uniform noise 96 - 1024 - 1024 - 784``
with ReLUs and a tanh output, discriminator ``784 - 256 - 256 - 1`` with
leaky ReLUs (slope 0.01), images scaled to [-1, 1]; trained alternately with
Adam (beta1 = 0.5, as in DCGAN) on binary cross-entropy, the generator on the
non-saturating loss ``-log D(G(z))``. Draws ten samples of fixed noise after
every epoch (a grid with one row per epoch; at most ten evenly spaced epochs)
and 50 final samples.

Sample quality is judged by the ``cnn`` script's classifier (its checkpoint, or
one trained here on a short schedule): the share of 1,000 samples it labels
with probability >= 0.9, and the entropy in bits of the histogram of its
predicted classes (log2 10 = 3.32 when every digit is generated equally often;
low when the generator collapsed onto a few modes).
"""
import time

import numpy as np

import minigrad as mg
from minigrad.validation import as_generator, check_int
from layers.activations import LeakyReLU, ReLU
from layers.affine import Linear
from layers.container import Flatten, Sequential
from layers.losses import binary_cross_entropy_with_logits
from optim import Adam, check_step

from . import plots
from .cli import load_data, progress, save_checkpoint, single_threaded_blas
from .models import check_image_shape
from .settings import declare, integer, training
from .visualization import CNN_CHECKPOINT, class_probabilities, trained_cnn

DESCRIPTION = "MLP GAN (non-saturating loss, Adam beta1 0.5); per-epoch samples, judged by the cnn"
# Small batches: 4,000 images give few steps per epoch, and the generator needs thousands.
DEFAULTS = training(epochs=25, batch_size=32, lr=1e-3)
# checkpoint: the judging cnn's checkpoint.npz; none means <out>/cnn/checkpoint.npz if present, else train.
OPTIONS = declare(checkpoint=CNN_CHECKPOINT, noise_dim=integer(96, low=1))
G_HIDDEN = (1024, 1024)
D_HIDDEN = (256, 256)
SLOPE = 0.01  # leaky ReLU slope
BETAS = (0.5, 0.999)
CLASSIFIER_EPOCHS = 3  # when the judging cnn has to be trained here (1 with --quick)
JUDGED = 1000  # samples judged by the classifier
CONFIDENT = 0.9
EPOCH_ROWS = 10  # rows (epochs) shown in the per-epoch sample grid


class Generator(mg.Module):
    """``noise (N, noise_dim) -> images (N, C, H, W)`` in (-1, 1)."""

    def __init__(self, noise_dim, image_shape, rng=None):
        super().__init__()
        noise_dim = check_int("Generator", "noise_dim", noise_dim, low=1)
        self.image_shape = check_image_shape("Generator", image_shape)
        rng = as_generator("Generator", "rng", rng)
        widths = (noise_dim, *G_HIDDEN)
        stack = []
        for fan_in, fan_out in zip(widths, widths[1:]):
            stack += [Linear(fan_in, fan_out, rng=rng), ReLU()]
        stack.append(Linear(widths[-1], int(np.prod(image_shape)), rng=rng))
        self.net = Sequential(*stack)

    def forward(self, z):
        return self.net(z).tanh().reshape(-1, *self.image_shape)


class Discriminator(mg.Module):
    """``images (N, C, H, W) -> logits (N, 1)`` of being real."""

    def __init__(self, image_shape, rng=None):
        super().__init__()
        image_shape = check_image_shape("Discriminator", image_shape)
        rng = as_generator("Discriminator", "rng", rng)
        widths = (int(np.prod(image_shape)), *D_HIDDEN)
        stack = [Flatten()]
        for fan_in, fan_out in zip(widths, widths[1:]):
            stack += [Linear(fan_in, fan_out, rng=rng), LeakyReLU(SLOPE)]
        stack.append(Linear(widths[-1], 1, rng=rng))
        self.net = Sequential(*stack)

    def forward(self, x):
        return self.net(x)


def _bce(logits, value):
    """Binary cross-entropy of ``logits`` (N, 1) against the constant label ``value``."""
    return binary_cross_entropy_with_logits(logits, np.full(logits.shape, value, logits.dtype))


def noise(rng, n, dim):
    """Generator inputs (n, dim), uniform in [-1, 1]."""
    return rng.uniform(-1.0, 1.0, (n, dim)).astype(np.float32)


def to_unit(images):
    """Generator images in [-1, 1] -> pixels in [0, 1] like the data."""
    return (images + 1.0) / 2.0


def train(generator, discriminator, X_train, args, rng):
    """Alternate one discriminator and one generator Adam step per minibatch of ``X_train``.

    Returns per-step losses ``{"discriminator": [...], "generator": [...]}`` and
    the generator's images of one fixed noise batch after each epoch (epochs, 10, C, H, W).
    """
    opt_g = Adam(generator.parameters(), lr=args.lr, betas=BETAS)
    opt_d = Adam(discriminator.parameters(), lr=args.lr, betas=BETAS)
    fixed = noise(rng, 10, args.noise_dim)
    losses = {"discriminator": [], "generator": []}
    per_epoch = []
    for epoch in progress(range(1, args.epochs + 1), desc="epochs"):
        order = rng.permutation(len(X_train))
        for start in range(0, len(X_train), args.batch_size):
            real = mg.Tensor(2.0 * X_train[order[start:start + args.batch_size]] - 1.0)
            fake = generator(mg.Tensor(noise(rng, real.shape[0], args.noise_dim)))
            # The discriminator sees the fakes as constants: its step must not move the generator.
            d_loss = _bce(discriminator(real), 1.0) + _bce(discriminator(fake.detach()), 0.0)
            step = len(losses["discriminator"]) + 1
            losses["discriminator"].append(check_step("gan: discriminator", d_loss.item(), step, epoch,
                                                       args.lr))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = _bce(discriminator(fake), 1.0)  # non-saturating: maximise log D(G(z))
            # After the discriminator's update: a NaN here may come from that step's learning rate.
            losses["generator"].append(check_step("gan: generator", g_loss.item(), step, epoch, args.lr,
                                                  after_update=True))
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
        with mg.no_grad():
            per_epoch.append(to_unit(generator(mg.Tensor(fixed)).data))
    return losses, np.stack(per_epoch)


def judge(classifier, samples, num_classes):
    """Share of ``samples`` the classifier labels with probability >= CONFIDENT, and class-histogram entropy.

    Returns ``(confident_share, entropy_bits, histogram)``; the histogram (num_classes,)
    counts the predicted class of every sample.
    """
    probabilities = class_probabilities(classifier, samples)
    histogram = np.bincount(probabilities.argmax(axis=1), minlength=num_classes)
    p = histogram[histogram > 0] / len(samples)
    entropy = float((p * np.log2(1 / p)).sum())  # one class: 0.0, not -0.0
    return float(np.mean(probabilities.max(axis=1) >= CONFIDENT)), entropy, histogram


def main(args):
    data = load_data(args)
    rng = np.random.default_rng(args.seed)
    with single_threaded_blas():
        # The judge first: a checkpoint that does not fit is refused before the GAN trains.
        classifier, source = trained_cnn(data, args, 1 if args.quick else CLASSIFIER_EPOCHS)
        generator = Generator(args.noise_dim, data.image_shape, rng=rng)
        discriminator = Discriminator(data.image_shape, rng=rng)
        start = time.perf_counter()
        losses, per_epoch = train(generator, discriminator, data.X_train, args, rng)
        seconds = time.perf_counter() - start
        with mg.no_grad():
            samples = to_unit(generator(mg.Tensor(noise(rng, JUDGED, args.noise_dim))).data)
        confident, entropy, histogram = judge(classifier, samples, data.num_classes)

    plots.curves(f"{args.out}/losses.png", losses, "step", "binary cross-entropy",
                 f"{confident:.0%} of samples classified with p >= {CONFIDENT}, "
                 f"class entropy {entropy:.2f} bits")
    shown = np.unique(np.linspace(0, len(per_epoch) - 1, EPOCH_ROWS).round().astype(int))
    plots.image_grid(f"{args.out}/samples_by_epoch.png", per_epoch[shown].reshape(-1, *data.image_shape),
                     ncols=per_epoch.shape[1],
                     title="fixed noise after epochs " + ", ".join(str(e + 1) for e in shown))
    plots.image_grid(f"{args.out}/samples.png", samples[:50], ncols=10, title="samples after training")
    save_checkpoint(args, **{f"generator.{k}": v for k, v in generator.state_dict().items()},
                    **{f"discriminator.{k}": v for k, v in discriminator.state_dict().items()})
    return {
        "test_confident_share": confident,
        "test_class_entropy_bits": entropy,
        "class_histogram": histogram,
        "classifier": source,
        "losses": losses,
        "train_seconds": seconds,
    }

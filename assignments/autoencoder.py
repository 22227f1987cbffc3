"""Plain and denoising convolutional autoencoders.

Encoder ``conv3x3/2(16) - ReLU - conv3x3/2(32) - ReLU - fc(latent)``, decoder
``fc(32 * H/4 * W/4) - ReLU - convT4x4/2(16) - ReLU - convT4x4/2(C)`` giving
logits; both autoencoders are trained with Adam on the binary cross-entropy
between the sigmoid of those logits and the clean image. The denoising one
sees its training images with fresh Gaussian noise (std ``noise``, clipped
to [0, 1], ``augment.gaussian_noise``) at every step and must still
reconstruct the clean image.

Reports the mean squared reconstruction error per pixel on the test digits:
the plain autoencoder on clean inputs, the denoising one on noisy inputs
(against the clean digits), and beside them the noisy inputs' own error and
the plain autoencoder on the same noisy inputs. Pictures: inputs, noisy
inputs and both reconstructions; the test digits' latent codes coloured by
class, projected on their first two principal axes (the latent space itself
with ``--set latent=2``).
"""
import time

import numpy as np

import minigrad as mg
from layers import Conv2d, ConvTranspose2d, Flatten, Linear, ReLU, Sequential, binary_cross_entropy_with_logits
from minigrad.validation import as_generator
from optim import Adam, check_step

from . import plots
from .augment import gaussian_noise
from .cli import load_data, progress, save_checkpoint, single_threaded_blas
from .models import check_image_shape
from .settings import declare, integer, number, training

DESCRIPTION = "plain + denoising conv autoencoders (BCE, Adam); reconstructions and the latent space"
DEFAULTS = training(epochs=15, batch_size=64, lr=2e-3)
OPTIONS = declare(latent=integer(16, low=1), noise=number(0.4, low=0, high=1))
WIDTHS = (16, 32)
GRID = 10  # digits per row of the picture


class ConvAutoencoder(mg.Module):
    """The encoder and decoder of the module docstring for images of ``image_shape`` (C, H, W),
    H and W divisible by 4; ``forward`` returns logits of the image's shape."""

    def __init__(self, image_shape, latent, widths=WIDTHS, rng=None):
        super().__init__()
        c, h, w = check_image_shape("ConvAutoencoder", image_shape)
        if h % 4 or w % 4:
            raise ValueError(f"ConvAutoencoder: image_shape must have H and W divisible by 4, got {image_shape}")
        rng = as_generator("ConvAutoencoder", "rng", rng)
        w1, w2 = widths
        self.code_shape = (w2, h // 4, w // 4)
        size = int(np.prod(self.code_shape))
        self.encoder = Sequential(Conv2d(c, w1, 3, stride=2, padding=1, rng=rng), ReLU(),
                                  Conv2d(w1, w2, 3, stride=2, padding=1, rng=rng), ReLU(),
                                  Flatten(), Linear(size, latent, rng=rng))
        self.expand = Linear(latent, size, rng=rng)
        self.decoder = Sequential(ConvTranspose2d(w2, w1, 4, stride=2, padding=1, rng=rng), ReLU(),
                                  ConvTranspose2d(w1, c, 4, stride=2, padding=1, rng=rng))

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(self.expand(z).relu().reshape(len(z), *self.code_shape))

    def forward(self, x):
        return self.decode(self.encode(x))


def reconstruct(model, X, batch_size=500):
    """Sigmoid of the model's logits for the images ``X``, in batches, without a graph."""
    with mg.no_grad():
        return np.concatenate([model(mg.Tensor(X[i:i + batch_size])).sigmoid().data
                               for i in range(0, len(X), batch_size)])


def mse(a, b):
    """Mean squared error per pixel."""
    return float(np.mean(np.square(a.astype(np.float64) - b)))


def train(model, X_train, X_val, args, noise, name):
    """Adam on BCE; ``noise`` > 0 corrupts each training batch (the denoising autoencoder).
    Returns per-step losses and per-epoch validation errors (on inputs corrupted the same way)."""
    optimizer = Adam(model.parameters(), lr=args.lr)
    order_rng, noise_rng = np.random.default_rng(args.seed), np.random.default_rng(args.seed + 1)
    X_val_in = gaussian_noise(X_val, noise, clip=(0, 1), rng=args.seed + 2)
    losses, val_mse = [], []
    for epoch in progress(range(1, args.epochs + 1), desc=name):
        order = order_rng.permutation(len(X_train))
        for start in range(0, len(X_train), args.batch_size):
            clean = X_train[order[start:start + args.batch_size]]
            x = gaussian_noise(clean, noise, clip=(0, 1), rng=noise_rng) if noise else clean
            loss = binary_cross_entropy_with_logits(model(mg.Tensor(x)), clean)
            losses.append(check_step("autoencoder", loss.item(), len(losses) + 1, epoch, args.lr))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        val_mse.append(mse(reconstruct(model, X_val_in), X_val))
    return losses, val_mse


def principal_axes(codes):
    """``codes`` (N, D) projected on their first two principal axes; with D <= 2, the codes themselves."""
    if codes.shape[1] <= 2:
        return codes
    centred = codes - codes.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


def latent_scatter(path, points, labels, title=""):
    """Scatter of 2-D ``points`` coloured by class label."""
    fig = plots._figure(6.0, 5.0)
    ax = fig.add_subplot()
    scatter = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=6, vmin=-0.5, vmax=9.5)
    fig.colorbar(scatter, ax=ax, ticks=range(10), label="digit")
    ax.set(title=title, xlabel="axis 1", ylabel="axis 2")
    fig.savefig(path)
    return path


def main(args):
    data = load_data(args)
    X_test = data.X_test
    noisy_test = gaussian_noise(X_test, args.noise, clip=(0, 1), rng=args.seed + 3)
    models, histories, seconds = {}, {}, {}
    # One BLAS thread: these GEMMs are small (16-32 channels), and on a loaded 2-core machine
    # a training step took 50-60 ms with one thread against 0.2-2 s with two.
    with single_threaded_blas():
        for name, noise in (("plain", 0.0), ("denoising", args.noise)):
            models[name] = ConvAutoencoder(data.image_shape, args.latent, rng=args.seed)
            start = time.perf_counter()
            histories[name] = train(models[name], data.X_train, data.X_val, args, noise, name)
            seconds[name] = time.perf_counter() - start
        plain = reconstruct(models["plain"], X_test)
        plain_on_noisy = reconstruct(models["plain"], noisy_test)
        denoised = reconstruct(models["denoising"], noisy_test)
        with mg.no_grad():
            codes = {name: np.concatenate([model.encode(mg.Tensor(X_test[i:i + 500])).data
                                           for i in range(0, len(X_test), 500)])
                     for name, model in models.items()}
    metrics = {
        "test_mse_plain": mse(plain, X_test),
        "test_mse_denoising": mse(denoised, X_test),
        "noisy_input_mse": mse(noisy_test, X_test),
        "plain_on_noisy_mse": mse(plain_on_noisy, X_test),
        "val_mse_history": {name: h[1] for name, h in histories.items()},
        "losses": {name: h[0] for name, h in histories.items()},
        "train_seconds": sum(seconds.values()),
        "train_seconds_by_model": seconds,
    }

    out = args.out
    plots.curves(f"{out}/loss.png", {name: h[0] for name, h in histories.items()}, "step", "BCE per pixel",
                 f"test MSE: plain {metrics['test_mse_plain']:.4f}, denoising {metrics['test_mse_denoising']:.4f}")
    rows = [X_test[:GRID], plain[:GRID], noisy_test[:GRID], denoised[:GRID]]
    plots.image_grid(f"{out}/reconstructions.png", np.concatenate(rows), ncols=GRID,
                     title="test digits, plain reconstructions, noisy inputs, denoised")
    for name, z in codes.items():
        latent_scatter(f"{out}/latent_{name}.png", principal_axes(z), data.y_test,
                       f"{name} autoencoder: test digits' codes"
                       + ("" if args.latent <= 2 else f" (first 2 principal axes of {args.latent})"))
    save_checkpoint(args, **{f"{name}.{k}": v for name, m in models.items() for k, v in m.state_dict().items()})
    return metrics

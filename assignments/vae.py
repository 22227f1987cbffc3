"""A variational autoencoder 784-400-20 with a Bernoulli decoder.

Trained with Adam on the negative evidence lower bound (binary cross-entropy
of the reconstruction plus the KL divergence of the approximate posterior
from the N(0, I) prior). Reports the test ELBO in nats per image (higher is
better) and draws reconstructions of test digits and samples from the prior.
"""
import time

import numpy as np

import minigrad as mg
from optim import Adam, check_step

from . import plots
from .cli import load_data, progress, save_checkpoint, single_threaded_blas
from .models import VAE, negative_elbo
from .settings import training

DESCRIPTION = "variational autoencoder 784-400-20, BCE + KL, Adam; reconstruction and sample grids"
DEFAULTS = training(epochs=10, batch_size=100, lr=1e-3)
HIDDEN = 400
LATENT = 20
GRID = 10  # images per row of the reconstruction and sample grids


def build_model(data, seed):
    """The default VAE for ``data`` (a SplitData)."""
    return VAE(int(np.prod(data.image_shape)), HIDDEN, LATENT, rng=seed)


def elbo(model, X, batch_size=500):
    """Mean ELBO (nats per example, one z sample each) of the images ``X`` (N, ...)."""
    total = 0.0
    with mg.no_grad():
        for i in range(0, len(X), batch_size):
            batch = X[i:i + batch_size]
            total += float(negative_elbo(model, mg.Tensor(batch)).item()) * len(batch)
    return -total / len(X)


def train(model, X_train, X_val, args):
    """Adam on minibatches of shuffled ``X_train``; returns per-step losses and per-epoch val ELBOs."""
    optimizer = Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    losses, val_elbo = [], []
    for epoch in progress(range(1, args.epochs + 1), desc="epochs"):
        order = rng.permutation(len(X_train))
        for start in range(0, len(X_train), args.batch_size):
            loss = negative_elbo(model, mg.Tensor(X_train[order[start:start + args.batch_size]]))
            losses.append(check_step("vae", loss.item(), len(losses) + 1, epoch, args.lr))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        val_elbo.append(elbo(model, X_val))
    return losses, val_elbo


def main(args):
    data = load_data(args)
    # One BLAS thread: (100, 784) x (784, 400) products gain nothing from two on a shared machine.
    with single_threaded_blas():
        model = build_model(data, args.seed)
        start = time.perf_counter()
        losses, val_elbo = train(model, data.X_train, data.X_val, args)
        seconds = time.perf_counter() - start
        test_elbo = elbo(model, data.X_test)
        with mg.no_grad():
            originals = data.X_test[:GRID]
            reconstructions = model(mg.Tensor(originals))[0].sigmoid().data
            z = np.random.default_rng(args.seed).standard_normal((3 * GRID, LATENT)).astype(np.float32)
            samples = model.decoder(mg.Tensor(z)).sigmoid().data

    shape = data.image_shape
    plots.curves(f"{args.out}/elbo.png", {"training minibatch": [-v for v in losses]}, "step", "ELBO (nats)",
                 f"test ELBO {test_elbo:.1f} nats")
    plots.image_grid(f"{args.out}/reconstructions.png",
                     np.concatenate([originals, reconstructions.reshape(-1, *shape)]), ncols=GRID,
                     title="test digits (top) and their reconstructions (bottom)")
    plots.image_grid(f"{args.out}/samples.png", samples.reshape(-1, *shape), ncols=GRID,
                     title="samples from the prior")
    save_checkpoint(args, **{f"model.{k}": v for k, v in model.state_dict().items()})
    return {"test_elbo": test_elbo, "val_elbo_history": val_elbo, "losses": losses, "train_seconds": seconds}

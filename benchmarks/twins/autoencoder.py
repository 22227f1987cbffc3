"""Twin of ``python -m assignments run autoencoder``: the same autoencoders in torch.nn.

The same architecture (PyTorch's default initialisation), data, batch order,
noise (drawn by ``assignments.augment.gaussian_noise`` from the same seeds),
loss, optimiser and epochs. ``python -m benchmarks.twins.autoencoder [--epochs 15]
[--threads 1]`` prints the same test errors as the script and the training time.
"""
import argparse
import time

import numpy as np

from assignments import autoencoder
from assignments.augment import gaussian_noise
from assignments.data import load_mnist5k

from .common import setup


def build(torch, image_shape, latent, widths=autoencoder.WIDTHS):
    nn = torch.nn
    c, h, w = image_shape
    w1, w2 = widths
    code_shape = (w2, h // 4, w // 4)
    size = int(np.prod(code_shape))

    class Autoencoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(nn.Conv2d(c, w1, 3, 2, 1), nn.ReLU(), nn.Conv2d(w1, w2, 3, 2, 1), nn.ReLU(),
                                         nn.Flatten(), nn.Linear(size, latent))
            self.expand = nn.Linear(latent, size)
            self.decoder = nn.Sequential(nn.ConvTranspose2d(w2, w1, 4, 2, 1), nn.ReLU(),
                                         nn.ConvTranspose2d(w1, c, 4, 2, 1))

        def forward(self, x):
            z = self.encoder(x)
            return self.decoder(torch.relu(self.expand(z)).reshape(len(z), *code_shape))

    return Autoencoder()


def reconstruct(torch, model, X, batch_size=500):
    with torch.no_grad():
        return np.concatenate([torch.sigmoid(model(torch.from_numpy(X[i:i + batch_size]))).numpy()
                               for i in range(0, len(X), batch_size)])


def train(torch, model, data, epochs, batch_size, lr, seed, noise):
    """The script's ``train``: Adam on BCE with logits against the clean batch, same batch order and noise."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    order_rng, noise_rng = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    X_val_in = gaussian_noise(data.X_val, noise, clip=(0, 1), rng=seed + 2)
    val_mse = []
    for _ in range(epochs):
        order = order_rng.permutation(len(data.X_train))
        for start in range(0, len(order), batch_size):
            clean = data.X_train[order[start:start + batch_size]]
            x = gaussian_noise(clean, noise, clip=(0, 1), rng=noise_rng) if noise else clean
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(torch.from_numpy(x)),
                                                                        torch.from_numpy(clean))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        val_mse.append(autoencoder.mse(reconstruct(torch, model, X_val_in), data.X_val))
    return val_mse


def main():
    defaults, options = autoencoder.DEFAULTS, autoencoder.OPTIONS
    parser = argparse.ArgumentParser(prog="python -m benchmarks.twins.autoencoder")
    parser.add_argument("--epochs", type=int, default=defaults["epochs"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="the script's --quick subset and one epoch")
    args = parser.parse_args()
    torch = setup(args.threads, args.seed)
    data = load_mnist5k()
    if args.quick:
        from assignments.cli import QUICK_SIZES

        data, args.epochs = data.subset(*QUICK_SIZES), 1
    noisy_test = gaussian_noise(data.X_test, options["noise"], clip=(0, 1), rng=args.seed + 3)
    start = time.perf_counter()
    for name, noise, inputs in (("plain", 0.0, data.X_test), ("denoising", options["noise"], noisy_test)):
        model = build(torch, data.image_shape, options["latent"])
        begin = time.perf_counter()
        history = train(torch, model, data, args.epochs, defaults["batch_size"], defaults["lr"], args.seed, noise)
        seconds = time.perf_counter() - begin
        error = autoencoder.mse(reconstruct(torch, model, inputs), data.X_test)
        print(f"{name}: test MSE {error:.5f}, training {seconds:.1f} s, validation MSE per epoch "
              f"{[round(v, 5) for v in history]}")
    print(f"wall {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()

"""Twin of ``python -m assignments run ddpm``: the same U-Net, schedule, training and samplers in torch.

The network's parameter names equal the script's, so its state dict loads
here. Batch order, timesteps, training noise and the samplers' noise are drawn
from NumPy generators with the script's seeds and in its order, so both sides
see the same numbers. The schedule, Algorithm 1, Algorithm 2 and DDIM are
written here in torch (float64 schedule, as the script's). Judging uses the
script's classifier and Fréchet distance (our layers, after the timed part).

``python -m benchmarks.twins.ddpm [--epochs N] [--threads 1] [--quick] [--checkpoint CNN.npz]``
prints the Fréchet distance, confident share and class entropy of the DDIM
and DDPM samples, and the training and sampling times.
"""
import argparse
import copy
import math
import time

import numpy as np

from assignments import ddpm

from .common import setup


def build(torch, in_channels=1, widths=ddpm.WIDTHS, groups=ddpm.GROUPS):
    nn, F = torch.nn, torch.nn.functional
    time_dim = 4 * widths[0]

    class ResidualBlock(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.norm1 = nn.GroupNorm(groups, cin)
            self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
            self.time = nn.Linear(time_dim, cout)
            self.norm2 = nn.GroupNorm(groups, cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
            self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

        def forward(self, x, emb):
            h = self.conv1(F.silu(self.norm1(x)))
            h = h + self.time(emb)[:, :, None, None]
            h = self.conv2(F.silu(self.norm2(h)))
            return h + (x if self.skip is None else self.skip(x))

    class TimeUNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.time_mlp = nn.Sequential(nn.Linear(widths[0], time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
            self.stem = nn.Conv2d(in_channels, widths[0], 3, padding=1)
            self.down = nn.ModuleList(ResidualBlock(cin, cout) for cin, cout in zip((widths[0],) + widths[:-1], widths))
            self.downsample = nn.ModuleList(nn.Conv2d(w, w, 3, stride=2, padding=1) for w in widths[:-1])
            self.middle = ResidualBlock(widths[-1], widths[-1])
            self.upsample = nn.ModuleList(nn.ConvTranspose2d(deep, shallow, 2, stride=2)
                                          for deep, shallow in zip(widths[:0:-1], widths[-2::-1]))
            self.up = nn.ModuleList(ResidualBlock(2 * w, w) for w in widths[-2::-1])
            self.out_norm = nn.GroupNorm(groups, widths[0])
            self.head = nn.Conv2d(widths[0], in_channels, 3, padding=1)

        def embed(self, t):
            """Sinusoidal embedding, sines and cosines interleaved (the script's layout)."""
            dim = widths[0]
            freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * (-math.log(10000.0) / dim))
            angles = torch.as_tensor(t, dtype=torch.float64)[:, None] * freq
            emb = torch.zeros(len(angles), dim, dtype=torch.float64)
            emb[:, 0::2] = torch.sin(angles)
            emb[:, 1::2] = torch.cos(angles[:, :dim // 2])
            return emb.to(self.stem.weight.dtype)

        def forward(self, x, t):
            emb = F.silu(self.time_mlp(self.embed(t)))
            h = self.stem(x)
            skips = []
            for level, block in enumerate(self.down):
                h = block(h if level == 0 else self.downsample[level - 1](h), emb)
                skips.append(h)
            h = self.middle(h, emb)
            for upsample, block, skip in zip(self.upsample, self.up, skips[-2::-1]):
                h = block(torch.cat([skip, upsample(h)], 1), emb)
            return self.head(F.silu(self.out_norm(h)))

    return TimeUNet()


def schedule(torch, kind, steps):
    """betas and alpha_bars (float64) of DDPM's linear schedule or Nichol & Dhariwal's cosine."""
    if kind == "linear":
        betas = torch.linspace(1e-4, 0.02, steps, dtype=torch.float64)
    else:
        f = torch.cos((torch.arange(steps + 1, dtype=torch.float64) / steps + 0.008) / 1.008 * math.pi / 2) ** 2
        abar = f / f[0]
        betas = torch.clamp(1 - abar[1:] / abar[:-1], max=0.999)
    return betas, torch.cumprod(1 - betas, 0)


def train(torch, model, X, betas, abar, args, rng):
    """Algorithm 1 with Adam and an EMA of the weights; returns a copy of the model holding the averages.

    The averages start at the initial weights and move after every step, as the
    script's (``AveragedModel`` would start them at the first step's weights instead).
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    averaged = copy.deepcopy(model)
    pairs = [(a.detach(), p.detach()) for a, p in zip(averaged.parameters(), model.parameters())]
    for _ in range(args.epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), args.batch_size):
            x0 = torch.from_numpy(X[order[start:start + args.batch_size]])
            t = rng.integers(0, len(betas), len(x0))
            noise = torch.from_numpy(rng.standard_normal(tuple(x0.shape)).astype(X.dtype))
            a = abar[torch.from_numpy(t)].to(x0.dtype)[:, None, None, None]
            loss = torch.nn.functional.mse_loss(model(a.sqrt() * x0 + (1 - a).sqrt() * noise, t), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                for average, p in pairs:
                    average.mul_(args.ema_decay).add_(p * (1 - args.ema_decay))
    return averaged


def sample(torch, model, betas, abar, shape, method, args, rng):
    """DDIM (eta = 0, ``args.ddim_steps`` steps, x0_hat clipped to [-1, 1]) or DDPM's Algorithm 2,
    x_T and z from ``rng``."""
    x = torch.from_numpy(rng.standard_normal(shape).astype(np.float32)).double()
    T = len(betas)
    with torch.no_grad():
        if method == "ddim":
            steps = np.unique(np.linspace(T - 1, 0, args.ddim_steps).round().astype(np.int64))[::-1]
            for t, prev in zip(steps, np.append(steps[1:], -1)):
                eps = model(x.float(), np.full(shape[0], t)).double()
                a, a_prev = abar[t], (abar[prev] if prev >= 0 else torch.tensor(1.0, dtype=torch.float64))
                x0_hat = ((x - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-1, 1)  # the script's clip
                eps = (x - a.sqrt() * x0_hat) / (1 - a).sqrt()
                x = (a_prev.sqrt() * x0_hat + (1 - a_prev).sqrt() * eps).float().double()
        else:
            abar_prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
            variance = betas if args.variance == "beta" else (1 - abar_prev) / (1 - abar) * betas
            for t in range(T - 1, -1, -1):
                eps = model(x.float(), np.full(shape[0], t)).double()
                x = (x - betas[t] / (1 - abar[t]).sqrt() * eps) / (1 - betas[t]).sqrt()
                if t > 0:
                    x = x + variance[t].sqrt() * torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
                x = x.float().double()
    return x.float().numpy()


def main():
    defaults, options = ddpm.DEFAULTS, ddpm.OPTIONS
    parser = argparse.ArgumentParser(prog="python -m benchmarks.twins.ddpm")
    parser.add_argument("--epochs", type=int, default=defaults["epochs"])
    parser.add_argument("--batch-size", type=int, default=defaults["batch_size"])
    parser.add_argument("--lr", type=float, default=defaults["lr"])
    for key in ("timesteps", "ddim_steps", "samples", "ancestral_samples"):
        parser.add_argument("--" + key.replace("_", "-"), type=int, default=options[key])
    parser.add_argument("--schedule", choices=("linear", "cosine"), default=options["schedule"])
    parser.add_argument("--variance", choices=("beta", "posterior"), default=options["variance"])
    parser.add_argument("--ema-decay", type=float, default=options["ema_decay"])
    parser.add_argument("--checkpoint", help="the cnn script's checkpoint.npz (else a judge is trained first)")
    parser.add_argument("--out", default="runs", help="where a cnn checkpoint is looked for (OUT/cnn)")
    parser.add_argument("--quick", action="store_true", help="the script's --quick subset, sizes and one epoch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()

    from assignments.cli import QUICK_SIZES, load_data
    from assignments.sample_quality import frechet_distance, penultimate_features
    from assignments.visualization import trained_cnn

    args.data, args.data_dir, args.out = "mnist5k", None, f"{args.out}/ddpm"  # trained_cnn reads OUT/cnn
    data = load_data(args)
    if args.quick:
        args.epochs = 1
        args.timesteps = min(args.timesteps, ddpm.QUICK_TIMESTEPS)
        args.ddim_steps = min(args.ddim_steps, ddpm.QUICK_DDIM_STEPS)
        args.samples = min(args.samples, ddpm.QUICK_SAMPLES)
        args.ancestral_samples = min(args.ancestral_samples, ddpm.QUICK_ANCESTRAL)
    # The judge first, in our layers, before torch runs anything (see the architecture notes on threads).
    classifier, source = trained_cnn(data, args, 1 if args.quick else ddpm.CLASSIFIER_EPOCHS)
    test_features = penultimate_features(classifier, data.X_test)

    torch = setup(args.threads, args.seed)
    betas, abar = schedule(torch, args.schedule, args.timesteps)
    model = build(torch, data.image_shape[0])
    tic = time.perf_counter()
    averaged = train(torch, model, 2.0 * data.X_train - 1.0, betas, abar, args, np.random.default_rng(args.seed))
    train_seconds = time.perf_counter() - tic
    print(f"training: {train_seconds:.1f} s ({sum(p.numel() for p in model.parameters())} parameters, "
          f"classifier {source}, QUICK_SIZES {QUICK_SIZES if args.quick else 'off'})", flush=True)
    for method, n, seed in (("ddim", args.samples, args.seed + 1), ("ddpm", args.ancestral_samples, args.seed + 2)):
        tic = time.perf_counter()
        x = sample(torch, averaged, betas, abar, (n, *data.image_shape), method, args, np.random.default_rng(seed))
        seconds = time.perf_counter() - tic
        unit = ddpm.to_unit(x)
        confident, entropy, _ = ddpm.judge(classifier, unit, data.num_classes)
        distance = frechet_distance(penultimate_features(classifier, unit), test_features)
        print(f"{method}: FD {distance:.2f}, {confident:.1%} confident, class entropy {entropy:.2f} bits, "
              f"{n} samples in {seconds:.1f} s", flush=True)
    print(f"wall {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()

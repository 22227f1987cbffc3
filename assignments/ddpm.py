"""Denoising diffusion (DDPM, Ho et al., 2020) on the digits, sampled by DDPM and by DDIM.

A small time-conditioned U-Net predicts the noise ``eps`` in ``x_t``. Each
level holds one residual block (GroupNorm - SiLU - conv3x3, the timestep's
embedding added per channel, GroupNorm - SiLU - conv3x3, plus the input);
levels are joined by stride-2 3x3 convolutions on the way down and 2x2
stride-2 transposed convolutions on the way up, where the same level's
features are concatenated; one more block sits at the bottom. The timestep
enters as its sinusoidal embedding (``layers.timestep_embedding``) through
``linear - SiLU - linear``. Widths 16, 32, 64 by default (``--set widths=``).

Training is DDPM's Algorithm 1 on the training digits scaled to [-1, 1]: a
uniform timestep and Gaussian noise per image, ``x_t`` in closed form, Adam
on the mean squared error of the predicted noise, and an exponential moving
average of the weights (``optim.ExponentialMovingAverage``) that is the
network sampled from. The schedule: betas linear from 1e-4 to 0.02 over
``timesteps`` steps (``--set schedule=cosine``: Nichol & Dhariwal's).

Sampling (``assignments.diffusion``): DDIM with eta = 0 on ``ddim_steps``
steps, its clean-image estimate clipped to [-1, 1] at each step (see
``diffusion.ddim_step``), for ``samples`` images, and DDPM's Algorithm 2 on all the steps
(``variance``: sigma_t^2 = beta_t or the posterior's beta~_t), for
``ancestral_samples`` images (it costs ``timesteps`` network passes).

Quality, as judged by the ``cnn`` script's classifier (its checkpoint, or one
trained here on a short schedule, as in ``gan``): the share of samples it
labels with probability >= 0.9, the entropy of its predicted-class histogram
(log2 10 = 3.32 bits for balanced digits), and the Fréchet distance between
its penultimate (128-d) features of the samples and of the test digits; the
validation digits' distance to the test digits is reported beside it as the
floor. Pictures: sample grids, denoising chains, the training loss.
``--quick`` (a smoke run) caps the steps at ``QUICK_TIMESTEPS`` (DDIM:
``QUICK_DDIM_STEPS``) and the samples at ``QUICK_SAMPLES`` (DDIM) and
``QUICK_ANCESTRAL`` (DDPM).
"""
import time

import numpy as np

import minigrad as mg
from layers import Conv2d, ConvTranspose2d, GroupNorm, Linear, Sequential, SiLU, mse_loss, silu, timestep_embedding
from minigrad.validation import as_generator, check_int, check_int_sequence
from optim import Adam, check_step
from optim.ema import ExponentialMovingAverage

from . import plots
from .cli import load_data, progress, save_checkpoint
from .diffusion import SCHEDULES, VARIANCES, make_schedule, q_sample, sample_ddim, sample_ddpm
from .gan import CONFIDENT, judge
from .sample_quality import frechet_distance, penultimate_features
from .settings import OptionError, choice, declare, integer, integers, number, training
from .visualization import CNN_CHECKPOINT, trained_cnn

DESCRIPTION = "DDPM: time-conditioned U-Net, eps-prediction, EMA; DDPM and DDIM samples judged by the cnn (FD)"
DEFAULTS = training(epochs=120, batch_size=128, lr=1e-3)
WIDTHS = (16, 32, 64)
GROUPS = 8  # GroupNorm groups in every block
OPTIONS = declare(widths=integers(WIDTHS, low=1), timesteps=integer(1000, low=1),
                  schedule=choice("linear", SCHEDULES), variance=choice("beta", VARIANCES),
                  ddim_steps=integer(50, low=1), ema_decay=number(0.999, low=0, high=1),
                  samples=integer(1000, low=2), ancestral_samples=integer(100, low=2),
                  checkpoint=CNN_CHECKPOINT)
QUICK_TIMESTEPS, QUICK_DDIM_STEPS, QUICK_SAMPLES, QUICK_ANCESTRAL = 100, 10, 100, 8
CLASSIFIER_EPOCHS = 3  # when the judging cnn has to be trained here (1 with --quick)
CHAIN = 6  # samples whose denoising chain is drawn
SNAPSHOTS = 10  # states drawn per chain


class ResidualBlock(mg.Module):
    """GroupNorm - SiLU - conv3x3, + linear(time embedding) per channel, GroupNorm - SiLU - conv3x3,
    plus the input (through a 1x1 convolution when the width changes).

    ``forward(x (N, in, H, W), emb (N, time_dim)) -> (N, out, H, W)``; ``emb`` is already
    passed through SiLU.
    """

    def __init__(self, in_channels, out_channels, time_dim, groups, rng):
        super().__init__()
        self.norm1 = GroupNorm(groups, in_channels)
        self.conv1 = Conv2d(in_channels, out_channels, 3, padding=1, rng=rng)
        self.time = Linear(time_dim, out_channels, rng=rng)
        self.norm2 = GroupNorm(groups, out_channels)
        self.conv2 = Conv2d(out_channels, out_channels, 3, padding=1, rng=rng)
        self.skip = Conv2d(in_channels, out_channels, 1, rng=rng) if in_channels != out_channels else None

    def forward(self, x, emb):
        h = self.conv1(silu(self.norm1(x)))
        h = h + self.time(emb).reshape(len(emb), -1, 1, 1)
        h = self.conv2(silu(self.norm2(h)))
        return h + (x if self.skip is None else self.skip(x))


class TimeUNet(mg.Module):
    """Noise predictor ``(x_t (N, C, H, W), t (N,) int) -> eps (N, C, H, W)``.

    Parameters
    ----------
    in_channels : int
    widths : sequence of int, at least 2
        Channels of each level, top (full size) to bottom, each a multiple of
        ``groups``; H and W must be multiples of ``2 ** (len(widths) - 1)``.
        The time embedding is ``4 * widths[0]`` wide.
    groups : int
        GroupNorm groups.
    rng : numpy Generator, int or None
    """

    def __init__(self, in_channels=1, widths=WIDTHS, groups=GROUPS, rng=None):
        super().__init__()
        func = "TimeUNet"
        in_channels = check_int(func, "in_channels", in_channels, low=1)
        self.widths = widths = check_int_sequence(func, "widths", widths, low=1)
        self.groups = check_int(func, "groups", groups, low=1)
        if len(widths) < 2:
            raise ValueError(f"{func}: widths must list at least 2 levels, got {widths!r}")
        for i, w in enumerate(widths):
            if w % groups:
                raise ValueError(f"{func}: widths[{i}] must be a multiple of groups ({groups}), got {w}")
        rng = as_generator(func, "rng", rng)
        time_dim = 4 * widths[0]
        self.time_mlp = Sequential(Linear(widths[0], time_dim, rng=rng), SiLU(), Linear(time_dim, time_dim, rng=rng))
        self.stem = Conv2d(in_channels, widths[0], 3, padding=1, rng=rng)
        self.down = [ResidualBlock(cin, cout, time_dim, groups, rng)
                     for cin, cout in zip((widths[0],) + widths[:-1], widths)]
        self.downsample = [Conv2d(w, w, 3, stride=2, padding=1, rng=rng) for w in widths[:-1]]
        self.middle = ResidualBlock(widths[-1], widths[-1], time_dim, groups, rng)
        self.upsample = [ConvTranspose2d(deep, shallow, 2, stride=2, rng=rng)
                         for deep, shallow in zip(widths[:0:-1], widths[-2::-1])]
        self.up = [ResidualBlock(2 * w, w, time_dim, groups, rng) for w in widths[-2::-1]]
        self.out_norm = GroupNorm(groups, widths[0])
        self.head = Conv2d(widths[0], in_channels, 3, padding=1, rng=rng)

    @property
    def factor(self):
        """H and W must be multiples of this."""
        return 2 ** (len(self.widths) - 1)

    def forward(self, x, t):
        emb = timestep_embedding(t, self.widths[0], dtype=self.stem.weight.dtype)
        emb = silu(self.time_mlp(mg.Tensor(emb)))
        h = self.stem(x)
        skips = []
        for level, block in enumerate(self.down):
            h = block(h if level == 0 else self.downsample[level - 1](h), emb)
            skips.append(h)
        h = self.middle(h, emb)
        for upsample, block, skip in zip(self.upsample, self.up, skips[-2::-1]):
            h = block(mg.concatenate([skip, upsample(h)], axis=1), emb)
        return self.head(silu(self.out_norm(h)))

    def extra_repr(self):
        return f"widths={self.widths}, groups={self.groups}"


def build_model(image_shape, widths, seed):
    """The U-Net for images of ``image_shape`` (C, H, W); :class:`OptionError` for widths
    it cannot take (not multiples of GROUPS, or too many levels for H and W)."""
    try:
        model = TimeUNet(image_shape[0], widths, rng=seed)
    except ValueError as exc:
        raise OptionError(f"--set widths: {exc}") from None
    if image_shape[1] % model.factor or image_shape[2] % model.factor:
        raise OptionError(f"--set widths: {len(widths)} levels halve the images {len(widths) - 1} times, "
                          f"so H and W must be multiples of {model.factor}, got {image_shape[1:]}")
    return model


def noise_predictor(model, batch_size=500):
    """``model`` as the samplers' ``eps_model(x, t) -> eps`` on arrays, in batches, without a graph."""
    def eps_model(x, t):
        with mg.no_grad():
            return np.concatenate([model(mg.Tensor(x[i:i + batch_size]), t[i:i + batch_size]).data
                                   for i in range(0, len(x), batch_size)])
    return eps_model


def to_unit(x):
    """Images in [-1, 1] (clipped) as [0, 1], the classifier's range."""
    return (np.clip(x, -1.0, 1.0) + 1.0) / 2.0


def train(model, ema, schedule, X, args, rng):
    """DDPM's Algorithm 1 with Adam, the EMA updated after every step; returns the per-step losses.

    Per epoch, a permutation of ``X`` (images in [-1, 1]); per batch, timesteps
    ``rng.integers(0, T, n)`` then noise ``rng.standard_normal``, in that order.
    """
    optimizer = Adam(model.parameters(), lr=args.lr)
    losses = []
    for epoch in progress(range(1, args.epochs + 1), desc="ddpm"):
        order = rng.permutation(len(X))
        for start in range(0, len(X), args.batch_size):
            x0 = X[order[start:start + args.batch_size]]
            t = rng.integers(0, schedule.steps, len(x0))
            noise = rng.standard_normal(x0.shape).astype(x0.dtype)
            loss = mse_loss(model(mg.Tensor(q_sample(schedule, x0, t, noise)), t), noise)
            losses.append(check_step("ddpm", loss.item(), len(losses) + 1, epoch, args.lr))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            ema.update()
    return losses


def quality(classifier, samples, reference_features, num_classes):
    """``{confident_share, class_entropy_bits, frechet_distance}`` of ``samples`` in [0, 1]."""
    confident, entropy, histogram = judge(classifier, samples, num_classes)
    distance = frechet_distance(penultimate_features(classifier, samples), reference_features)
    return {"confident_share": confident, "class_entropy_bits": entropy, "frechet_distance": distance,
            "class_histogram": histogram}


def chain_grid(path, chain, timesteps, title):
    """Rows: the first CHAIN samples; columns: their states along the chain, x_T to x_0."""
    shown = chain[:, :CHAIN]
    images = shown.transpose(1, 0, *range(2, shown.ndim)).reshape(-1, *shown.shape[2:])
    titles = [("x0" if t < 0 else f"t={t + 1}") if row == 0 else "" for row in range(shown.shape[1])
              for t in timesteps]
    return plots.image_grid(path, images, titles=titles, ncols=len(timesteps), title=title)


def main(args):
    if args.ddim_steps > args.timesteps:
        raise OptionError(f"--set ddim_steps: must be at most timesteps ({args.timesteps}), got {args.ddim_steps}")
    data = load_data(args)
    model = build_model(data.image_shape, args.widths, args.seed)
    timesteps, ddim_steps, n_ddim, n_ddpm = args.timesteps, args.ddim_steps, args.samples, args.ancestral_samples
    if args.quick:
        timesteps, ddim_steps = min(timesteps, QUICK_TIMESTEPS), min(ddim_steps, QUICK_DDIM_STEPS)
        n_ddim, n_ddpm = min(n_ddim, QUICK_SAMPLES), min(n_ddpm, QUICK_ANCESTRAL)
    schedule = make_schedule(args.schedule, timesteps)
    shape = data.image_shape
    # The judge first: a checkpoint that does not fit is refused before the model trains.
    classifier, source = trained_cnn(data, args, 1 if args.quick else CLASSIFIER_EPOCHS)
    test_features = penultimate_features(classifier, data.X_test)
    floor = frechet_distance(penultimate_features(classifier, data.X_val), test_features)

    ema = ExponentialMovingAverage(model, decay=args.ema_decay)
    start = time.perf_counter()
    losses = train(model, ema, schedule, 2.0 * data.X_train - 1.0, args, np.random.default_rng(args.seed))
    seconds = time.perf_counter() - start

    results, sampled, chains, sampling_seconds = {}, {}, {}, {}
    with ema.swapped_in():
        eps_model = noise_predictor(model)
        for method in ("ddim", "ddpm"):
            tic = time.perf_counter()
            if method == "ddim":
                x, chain, kept = sample_ddim(eps_model, schedule, (n_ddim, *shape), ddim_steps,
                                             rng=args.seed + 1, snapshots=SNAPSHOTS,
                                             progress=lambda s: progress(s, "DDIM"))
            else:
                x, chain, kept = sample_ddpm(eps_model, schedule, (n_ddpm, *shape), rng=args.seed + 2,
                                             variance=args.variance, snapshots=SNAPSHOTS,
                                             progress=lambda s: progress(s, "DDPM"))
            sampling_seconds[method] = time.perf_counter() - tic
            sampled[method], chains[method] = to_unit(x), (chain, kept)
            results[method] = quality(classifier, sampled[method], test_features, data.num_classes)

    metrics = {f"test_{key}_{method}": value for method, r in results.items()
               for key, value in r.items() if key != "class_histogram"}
    metrics.update({
        "class_histogram": {method: r["class_histogram"] for method, r in results.items()},
        "reference_frechet_distance": floor,
        "samples": {"ddim": n_ddim, "ddpm": n_ddpm},
        "steps": {"ddim": ddim_steps, "ddpm": timesteps},
        "parameters": int(sum(p.size for p in model.parameters())),
        "classifier": source,
        "losses": losses,
        "train_seconds": seconds,
        "sampling_seconds": sampling_seconds,
    })

    out = args.out
    plots.curves(f"{out}/train_loss.png", {"ddpm": losses}, "step", "MSE of the predicted noise",
                 f"eps-prediction loss, {args.schedule} schedule, T={timesteps}")
    for method, label in (("ddim", f"DDIM, {ddim_steps} steps"), ("ddpm", f"DDPM Algorithm 2, {timesteps} steps")):
        r = results[method]
        plots.image_grid(f"{out}/samples_{method}.png", sampled[method][:100], ncols=10,
                         title=f"{label}: FD {r['frechet_distance']:.1f} (test vs validation digits {floor:.1f}), "
                               f"{r['confident_share']:.0%} with p >= {CONFIDENT}")
        chain, kept = chains[method]
        chain_grid(f"{out}/chain_{method}.png", chain, kept, f"{label}: denoising chains")
    with ema.swapped_in():
        averaged = model.state_dict()
    save_checkpoint(args, **{f"model.{k}": v for k, v in model.state_dict().items()},
                    **{f"ema.{k}": v for k, v in averaged.items()})
    return metrics

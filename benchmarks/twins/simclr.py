"""Twin of ``python -m assignments run simclr``: the same SimCLR and MoCo pretraining in torch.nn.

The same network (its parameter and buffer names equal the script's, so a
state dict of either loads in the other; PyTorch's default initialisation),
data, batch order, views (drawn by ``assignments.augment`` from the same
seeds, in the same order), losses (NT-Xent and InfoNCE written here with
PyTorch's pieces), key-encoder average, queue, optimiser and epochs. The
evaluation is the script's own: its linear probe (``simclr.linear_probe``)
on the frozen features this network computes, the same probe on the random
(initial) encoder and on raw pixels, and the same network trained supervised
on the 500 labels (in torch, with the same shifts drawn by
``assignments.data.random_crop``).

``python -m benchmarks.twins.simclr [--method moco] [--epochs N] [--threads 2] [--quick]
[--script-init]`` prints the probe accuracies and the pretraining time; ``--script-init``
starts from the script's initial weights for its seed, so that the two runs differ only in
their arithmetic.
"""
import argparse
import copy
import time

import numpy as np

from assignments import simclr
from assignments.augment import contrastive_augmentation, two_views
from assignments.data import load_mnist5k

from .common import Shift, accuracy, setup


def build(torch, image_shape, channels=simclr.CHANNELS, hidden=simclr.HIDDEN, projection=(128, 64)):
    """The script's ContrastiveNet: ``encoder`` (N, C, H, W) -> (N, hidden), ``projection`` -> (N, projection[-1])."""
    nn = torch.nn
    c, h, w = image_shape
    c1, c2 = channels

    class ContrastiveNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(
                nn.Conv2d(c, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(c2 * (h // 4) * (w // 4), hidden), nn.ReLU())
            head, width = [], hidden
            for i, out in enumerate(projection):
                head += [nn.Linear(width, out)] + ([nn.ReLU()] if i < len(projection) - 1 else [])
                width = out
            self.projection = nn.Sequential(*head)

        def forward(self, x):
            return self.projection(self.encoder(x))

    return ContrastiveNet()


def build_supervised(torch, image_shape, num_classes):
    """The script's supervised baseline (the cnn script's ConvNet): the encoder plus fc10."""
    net = build(torch, image_shape, projection=(num_classes,))
    return torch.nn.Sequential(net.encoder, net.projection)


def nt_xent(torch, z1, z2, temperature):
    """SimCLR's NT-Xent: normalised rows, similarities over the temperature, each row's own masked."""
    F = torch.nn.functional
    n = len(z1)
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = (z @ z.T / temperature).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    return F.cross_entropy(logits, torch.cat([torch.arange(n, 2 * n), torch.arange(n)]))


def info_nce(torch, query, key, queue, temperature):
    """MoCo's InfoNCE: each query against its key (class 0) and the queue's keys."""
    F = torch.nn.functional
    q, k, w = F.normalize(query, dim=1), F.normalize(key, dim=1), F.normalize(queue, dim=1)
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ w.T], dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long))


def pretrain(torch, model, X, args):
    """The script's ``pretrain``: same batches, views, queue and updates. Returns
    ``(losses, key_model or None, queue or None)``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    transform = contrastive_augmentation()
    order_rng, view_rng = np.random.default_rng(args.seed), np.random.default_rng(args.seed + 1)
    tau = simclr.temperature(args)
    key_model = queue = None
    if args.method == "moco":
        key_model = copy.deepcopy(model)
        queue = torch.from_numpy(simclr.initial_queue(args.queue, args.projection[-1], X.dtype,
                                                      np.random.default_rng(args.seed + 2)))
    losses = []
    for _ in range(args.epochs):
        order = order_rng.permutation(len(X))
        for start in range(0, len(X), args.batch_size):
            first, second = two_views(X[order[start:start + args.batch_size]], transform, rng=view_rng)
            n = len(first)
            z = model(torch.from_numpy(np.concatenate([first, second])))
            if args.method == "simclr":
                loss = nt_xent(torch, z[:n], z[n:], tau)
            else:
                with torch.no_grad():
                    keys = key_model(torch.from_numpy(np.concatenate([second, first])))
                loss = info_nce(torch, z, keys, queue, tau)
            losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if key_model is not None:
                with torch.no_grad():
                    for average, p in zip(key_model.parameters(), model.parameters()):
                        average.mul_(args.momentum).add_(p * (1.0 - args.momentum))
                queue = torch.cat([torch.nn.functional.normalize(keys[:n], dim=1), queue])[:len(queue)]
    return losses, key_model, queue


def representations(torch, encoder, X, batch_size=500):
    encoder.eval()
    with torch.no_grad():
        h = torch.cat([encoder(torch.from_numpy(X[i:i + batch_size])) for i in range(0, len(X), batch_size)])
    encoder.train()
    return h.numpy()


def probe(torch, encoder, data):
    """The script's linear probe on this encoder's features: test accuracy."""
    return simclr.linear_probe(representations(torch, encoder, data.X_val), data.y_val,
                               representations(torch, encoder, data.X_test), data.y_test, data.num_classes)[1]


def train_supervised(torch, data, epochs, seed):
    """The script's ``train_supervised``: Adam on the 500 validation labels, batches of 50, +-2 px shifts."""
    model = build_supervised(torch, data.image_shape, data.num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=simclr.SUPERVISED_LR)
    shift, rng = Shift(torch, simclr.SHIFT, seed), np.random.default_rng(seed + 3)
    for _ in range(epochs):
        order = rng.permutation(len(data.X_val))
        for i in range(0, len(order), simclr.SUPERVISED_BATCH):
            batch = order[i:i + simclr.SUPERVISED_BATCH]
            loss = torch.nn.functional.cross_entropy(model(shift(torch.from_numpy(data.X_val[batch]))),
                                                     torch.from_numpy(data.y_val[batch]).long())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return accuracy(torch, model, data.X_test, data.y_test)


def main():
    defaults, options = simclr.DEFAULTS, simclr.OPTIONS
    parser = argparse.ArgumentParser(prog="python -m benchmarks.twins.simclr")
    parser.add_argument("--method", choices=simclr.METHODS, default=options["method"])
    parser.add_argument("--epochs", type=int, default=defaults["epochs"])
    parser.add_argument("--batch-size", type=int, default=defaults["batch_size"])
    parser.add_argument("--lr", type=float, default=defaults["lr"])
    parser.add_argument("--temperature", type=float, default=options["temperature"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="the script's --quick subset and one epoch")
    parser.add_argument("--script-init", action="store_true",
                        help="start from the script's initial weights (its seed) instead of PyTorch's")
    args = parser.parse_args()
    args.projection, args.queue, args.momentum = options["projection"], options["queue"], options["momentum"]
    supervised_epochs = options["supervised_epochs"]
    torch = setup(args.threads, args.seed)
    data = load_mnist5k()
    if args.quick:
        from assignments.cli import QUICK_SIZES

        data, args.epochs = data.subset(*QUICK_SIZES), 1
    begin = time.perf_counter()
    random_net = build(torch, data.image_shape, projection=args.projection)
    if args.script_init:
        state = simclr.ContrastiveNet(data.image_shape, projection=args.projection, rng=args.seed).state_dict()
        random_net.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()})
    model = copy.deepcopy(random_net)
    start = time.perf_counter()
    losses, _, _ = pretrain(torch, model, data.X_train, args)
    seconds = time.perf_counter() - start
    steps = -(-len(data.X_train) // args.batch_size)
    flat = lambda X: X.reshape(len(X), -1)  # noqa: E731
    results = {
        "probe": probe(torch, model.encoder, data),
        "random encoder": probe(torch, random_net.encoder, data),
        "raw pixels": simclr.linear_probe(flat(data.X_val), data.y_val, flat(data.X_test), data.y_test)[1],
        "supervised on the 500 labels": train_supervised(torch, data, supervised_epochs, args.seed),
    }
    print(f"{args.method} (tau {simclr.temperature(args):g}), {args.epochs} epochs: pretraining {seconds:.1f} s, "
          f"loss per epoch {[round(float(np.mean(losses[i:i + steps])), 4) for i in range(0, len(losses), steps)]}")
    for name, value in results.items():
        print(f"test accuracy, {name}: {value:.2%}")
    print(f"wall {time.perf_counter() - begin:.1f} s")


if __name__ == "__main__":
    main()

"""What every twin shares: threads, data, the shift augmentation and an Adam training loop
with the course scripts' rules (per-epoch shuffling, best validation epoch restored)."""
import argparse
import copy
import time

import numpy as np


def setup(threads=2, seed=0):
    """Import torch with ``threads`` threads and seed it; returns the module."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    return torch


class Shift:
    """``assignments.models.RandomShift`` in torch: shift each training image by up to ``pixels``."""

    def __init__(self, torch, pixels, seed):
        self.torch, self.pixels, self.rng = torch, pixels, np.random.default_rng(seed)

    def __call__(self, x):
        from assignments.data import random_crop

        return x if self.pixels == 0 else self.torch.from_numpy(random_crop(x.numpy(), self.pixels, self.rng))


def accuracy(torch, model, X, y, batch_size=500):
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(torch.from_numpy(X[i:i + batch_size])).argmax(1)
                                 for i in range(0, len(X), batch_size)])
    model.train()
    return float((predictions.numpy() == y).mean())


def train(torch, model, data, epochs, batch_size, lr, seed, augment=None, train_samples=1000):
    """Adam on cross-entropy, its rate following a cosine to zero stepped every batch (the resnet
    script's ``CosineAnnealingLR``); returns (model with its best validation epoch's weights,
    history, seconds).

    Like ``optim.Solver``, every epoch measures the accuracy on ``train_samples``
    random training images (``history["train_acc"]``) and on the validation set.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * -(-len(data.X_train) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    rng = np.random.default_rng(seed)
    history, best, best_state = {"train_acc": [], "val_acc": []}, -1.0, None
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(data.X_train))
        for i in range(0, len(order), batch_size):
            batch = order[i:i + batch_size]
            x = torch.from_numpy(data.X_train[batch])
            if augment is not None:
                x = augment(x)
            loss = torch.nn.functional.cross_entropy(model(x), torch.from_numpy(data.y_train[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        subset = rng.choice(len(data.X_train), min(train_samples, len(data.X_train)), replace=False)
        history["train_acc"].append(accuracy(torch, model, data.X_train[subset], data.y_train[subset]))
        history["val_acc"].append(accuracy(torch, model, data.X_val, data.y_val))
        if history["val_acc"][-1] > best:
            best, best_state = history["val_acc"][-1], copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return model, history, time.perf_counter() - start


def scene_parser(script, **extra):
    """The command line of a digit-scene twin: the training settings and scene counts of
    ``script`` (its module) as defaults, plus ``extra`` flags (name -> argparse keywords)."""
    defaults, options = script.DEFAULTS, script.OPTIONS
    name = script.__name__.rsplit(".", 1)[1]
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.twins.{name}")
    for flag, keywords in extra.items():
        parser.add_argument(f"--{flag}", **keywords)
    parser.add_argument("--epochs", type=int, default=defaults["epochs"])
    parser.add_argument("--batch-size", type=int, default=defaults["batch_size"])
    parser.add_argument("--lr", type=float, default=defaults["lr"])
    parser.add_argument("--train-scenes", type=int, default=options["train_scenes"])
    parser.add_argument("--eval-scenes", type=int, default=options["eval_scenes"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    return parser

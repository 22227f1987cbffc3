"""Twin of ``python -m assignments run captioning`` (the LSTM decoder) in torch.nn.

The same encoder and decoder, strips, warm-up and cosine schedule, gradient
clipping and best-validation-epoch rule. ``python -m benchmarks.twins.captioning
[--epochs 8] [--seed 0]`` prints the test exact match, per-digit accuracy and
the wall time.
"""
import argparse
import copy
import time

import numpy as np

from assignments import captioning as script
from assignments.data import load_mnist5k

from .common import setup


def build(torch):
    """The captioner: conv encoder, projected into the LSTM's initial hidden state."""
    nn = torch.nn

    class Twin(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(
                nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2))
            self.init_hidden = nn.Linear(64 * 7 * 7 * script.DIGITS, script.HIDDEN)
            self.embed = nn.Embedding(script.START + 1, script.EMBED)
            self.lstm = nn.LSTM(script.EMBED, script.HIDDEN, batch_first=True)
            self.out = nn.Linear(script.HIDDEN, 10)

        def forward(self, images, tokens):
            h0 = torch.tanh(self.init_hidden(self.encoder(images).flatten(1)))[None]
            hidden, _ = self.lstm(self.embed(tokens), (h0, torch.zeros_like(h0)))
            return self.out(hidden)

    return Twin()


def evaluate(torch, model, images, labels, batch_size=500):
    """(exact-match rate, per-digit accuracy) of greedy decoding, as ``captioning.evaluate``."""
    model.eval()
    predicted = []
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            x = torch.from_numpy(images[i:i + batch_size])
            tokens = torch.full((len(x), 1), script.START, dtype=torch.long)
            for _ in range(script.DIGITS):
                scores = model(x, tokens)[:, -1]
                tokens = torch.cat([tokens, scores.argmax(1, keepdim=True)], dim=1)
            predicted.append(tokens[:, 1:].numpy())
    model.train()
    right = np.concatenate(predicted) == labels
    return float(right.all(axis=1).mean()), float(right.mean())


def main():
    defaults = script.DEFAULTS
    parser = argparse.ArgumentParser(prog="python -m benchmarks.twins.captioning")
    parser.add_argument("--epochs", type=int, default=defaults["epochs"])
    parser.add_argument("--train-strips", type=int, default=script.OPTIONS["train_strips"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    for flag in ("epochs", "train_strips", "threads"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1, got {getattr(args, flag)}")
    torch = setup(args.threads, args.seed)
    data = load_mnist5k()
    rng = np.random.default_rng(args.seed)
    val_images, val_labels = script.make_strips(data.X_val, data.y_val, script.EVAL_STRIPS, rng)
    test_images, test_labels = script.make_strips(data.X_test, data.y_test, script.EVAL_STRIPS, rng)
    start = time.perf_counter()
    model = build(torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=defaults["lr"])
    steps = -(-args.train_strips // defaults["batch_size"])
    schedule = torch.optim.lr_scheduler.SequentialLR(optimizer, [
        torch.optim.lr_scheduler.LinearLR(optimizer, 1 / steps, 1.0, total_iters=steps),
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, (args.epochs - 1) * steps)),
    ], milestones=[steps])
    val_exact, best = [], None
    for _ in range(args.epochs):
        images, labels = script.make_strips(data.X_train, data.y_train, args.train_strips, rng)
        for i in range(0, args.train_strips, defaults["batch_size"]):
            x = torch.from_numpy(images[i:i + defaults["batch_size"]])
            target = torch.from_numpy(labels[i:i + defaults["batch_size"]])
            tokens = torch.from_numpy(script.teacher_tokens(labels[i:i + defaults["batch_size"]]))
            loss = torch.nn.functional.cross_entropy(model(x, tokens).reshape(-1, 10), target.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
        val_exact.append(evaluate(torch, model, val_images, val_labels)[0])
        if best is None or val_exact[-1] > best[0]:
            best = (val_exact[-1], copy.deepcopy(model.state_dict()))
    model.load_state_dict(best[1])
    training = time.perf_counter() - start
    exact, per_digit = evaluate(torch, model, test_images, test_labels)
    print(f"test exact match {exact:.1%}, per digit {per_digit:.1%}; training {training:.1f} s, "
          f"validation exact match per epoch {val_exact}; wall {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()

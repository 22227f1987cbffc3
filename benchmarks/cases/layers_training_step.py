"""One training step of the captioning model against a PyTorch twin.

Forward, backward, gradient clipping and Adam on a batch of 64 strips
(1 x 28 x 84) through the same encoder and LSTM decoder as
``assignments/captioning.py``: the step that script repeats 2,500 times.
"""
import numpy as np

import minigrad as mg
from assignments.captioning import DIGITS, EMBED, HIDDEN, START, Captioner, teacher_tokens
from layers.losses import cross_entropy
from optim import Adam, clip_grad_norm_

from ..harness import Case, deferred


def _torch_captioner(torch):
    nn = torch.nn

    class Twin(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(
                nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2))
            self.init_hidden = nn.Linear(64 * 7 * 21, HIDDEN)
            self.embed = nn.Embedding(START + 1, EMBED)
            self.lstm = nn.LSTM(EMBED, HIDDEN, batch_first=True)
            self.out = nn.Linear(HIDDEN, 10)

        def forward(self, images, tokens):
            h0 = torch.tanh(self.init_hidden(self.encoder(images).flatten(1)))[None]
            hidden, _ = self.lstm(self.embed(tokens), (h0, torch.zeros_like(h0)))
            return self.out(hidden)

    return Twin()


def _batch():
    rng = np.random.default_rng(0)
    images = rng.random((64, 1, 28, 28 * DIGITS), dtype=np.float32)
    labels = rng.integers(0, 10, (64, DIGITS))
    return images, labels, teacher_tokens(labels)


def _ours():
    images, labels, tokens = _batch()
    model = Captioner(images.shape[1:], "lstm", rng=0)
    optimizer = Adam(model.parameters(), lr=1e-3)

    def run():
        scores = model(mg.Tensor(images), tokens)
        loss = cross_entropy(scores.reshape(-1, 10), labels.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    return run


def _reference():
    import torch

    images, labels, tokens = _batch()
    twin = _torch_captioner(torch)
    twin_optimizer = torch.optim.Adam(twin.parameters(), lr=1e-3)
    images_t, labels_t = torch.from_numpy(images), torch.from_numpy(labels).long()
    tokens_t = torch.from_numpy(tokens).long()

    def run():
        scores = twin(images_t, tokens_t)
        loss = torch.nn.functional.cross_entropy(scores.reshape(-1, 10), labels_t.reshape(-1))
        twin_optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(twin.parameters(), 1.0)
        twin_optimizer.step()

    return run


def cases(quick):
    # Each side builds its model in its own worker, on the same seeded batch (the two models'
    # initial weights differ: same work, not same values).
    return [Case("captioning training step, batch 64 float32", deferred(_ours),
                 {"torch": deferred(_reference)}, "conv encoder + LSTM decoder, Adam, clipping")]

"""One training step of a course script's model against its PyTorch twin.

- captioning: forward, backward, gradient clipping and Adam on a batch of 64
  strips (1 x 28 x 84) through the same encoder and LSTM decoder as
  ``assignments/captioning.py``: the step that script repeats 2,500 times.
- U-Net, FCN, detector, ResNet, the DDPM U-Net and SimCLR's network (its two
  views of a batch drawn once, outside the step): forward, loss, backward and
  Adam on one batch of the script's default size, the twin being the one in
  ``benchmarks/twins``. A script's wall time is mostly these steps, so their
  ratio is the one its wall-time target is about.
"""
import numpy as np

import minigrad as mg
from assignments.captioning import DIGITS, Captioner, teacher_tokens
from layers.contrastive import nt_xent_loss
from layers.losses import cross_entropy
from optim import Adam, clip_grad_norm_

from ..harness import Case, deferred


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

    from ..twins import captioning as twin_script

    images, labels, tokens = _batch()
    twin = twin_script.build(torch)
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
                 {"torch": deferred(_reference)}, "conv encoder + LSTM decoder, Adam, clipping"),
            Case("U-Net training step, 32 scenes 64x64", deferred(_segmentation_ours("unet")),
                 {"torch": deferred(_segmentation_twin("unet"))}, "segmentation, widths 8-64, Adam"),
            Case("FCN training step, 32 scenes 64x64", deferred(_segmentation_ours("fcn")),
                 {"torch": deferred(_segmentation_twin("fcn"))}, "segmentation, skip scores, Adam"),
            Case("detector training step, 32 scenes 64x64", deferred(_detection_ours),
                 {"torch": deferred(_detection_twin)}, "focal + smooth L1, Adam"),
            Case("ResNet training step, batch 64 MNIST", deferred(_resnet_ours),
                 {"torch": deferred(_resnet_twin)}, "3 stages x 2 basic blocks, Adam"),
            Case("DDPM U-Net training step, batch 128 MNIST", deferred(_ddpm_ours),
                 {"torch": deferred(_ddpm_twin)}, "time-conditioned U-Net, MSE, Adam"),
            Case("SimCLR training step, 2 x 256 views MNIST", deferred(_simclr_ours),
                 {"torch": deferred(_simclr_twin)}, "cnn encoder + projection, NT-Xent, Adam")]


# ------------------------------------------------------------ the dense course scripts
def _scenes(n):
    from assignments.scenes import load_digit_scenes

    return load_digit_scenes(n, 1, 1, seed=0).train


LR = 1e-3


def _adam_step(loss_of_batch, optimizer):
    """One side's step: ``loss_of_batch()`` -> loss, then backward and ``optimizer`` (our Adam or
    torch's, both at LR: each has ``zero_grad`` and ``step``)."""
    def run():
        loss = loss_of_batch()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return run


def _segmentation_ours(name):
    def factory():
        from assignments import segmentation

        scenes = _scenes(32)
        model = segmentation.build_model(name, 0, scenes.masks)
        return _adam_step(lambda: segmentation.segmentation_loss(model(mg.Tensor(scenes.images)), scenes.masks, "ce"),
                          Adam(model.parameters(), lr=LR))
    return factory


def _segmentation_twin(name):
    def factory():
        import torch

        from ..twins import segmentation

        scenes = _scenes(32)
        model = segmentation.build(torch, name)
        images, masks = torch.from_numpy(scenes.images), torch.from_numpy(scenes.masks)
        return _adam_step(lambda: segmentation.loss_fn(torch, model(images), masks, "ce"),
                          torch.optim.Adam(model.parameters(), lr=LR))
    return factory


def _detection_batch():
    from assignments import detection

    scenes = _scenes(32)
    return (scenes.images, *detection.encode_all(scenes))


def _detection_ours():
    from assignments import detection

    images, heat, distances, positive = _detection_batch()
    model = detection.build_model(0)
    return _adam_step(lambda: detection.detection_loss(*model(mg.Tensor(images)), heat, distances, positive),
                      Adam(model.parameters(), lr=LR))


def _detection_twin():
    import torch

    from ..twins import detection

    arrays = [torch.from_numpy(a) for a in _detection_batch()]
    model = detection.build(torch)
    return _adam_step(lambda: detection.loss_fn(torch, *model(arrays[0]), *arrays[1:]),
                      torch.optim.Adam(model.parameters(), lr=LR))


def _mnist_batch(n):
    from assignments.data import load_mnist5k

    data = load_mnist5k()
    return data.X_train[:n], data.y_train[:n]


def _resnet_ours():
    from assignments import resnet
    from layers.residual import ResNet

    images, labels = _mnist_batch(resnet.DEFAULTS["batch_size"])
    model = ResNet(1, 10, resnet.WIDTHS, (resnet.OPTIONS["depth"],) * len(resnet.WIDTHS), shortcuts=True, rng=0)
    return _adam_step(lambda: cross_entropy(model(mg.Tensor(images)), labels), Adam(model.parameters(), lr=LR))


def _resnet_twin():
    import torch

    from assignments import resnet

    from ..twins import resnet as twin

    images, labels = (torch.from_numpy(a) for a in _mnist_batch(resnet.DEFAULTS["batch_size"]))
    model = twin.build(torch, 1, 10, shortcuts=True)
    return _adam_step(lambda: torch.nn.functional.cross_entropy(model(images), labels.long()),
                      torch.optim.Adam(model.parameters(), lr=LR))


def _ddpm_batch():
    from assignments import ddpm

    images, _ = _mnist_batch(ddpm.DEFAULTS["batch_size"])
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(images.shape).astype(images.dtype)
    return 2 * images - 1, rng.integers(0, 1000, len(images)), noise


def _ddpm_ours():
    from assignments import ddpm
    from layers.losses import mse_loss

    noisy, t, noise = _ddpm_batch()
    model = ddpm.build_model(noisy.shape[1:], ddpm.WIDTHS, 0)
    return _adam_step(lambda: mse_loss(model(mg.Tensor(noisy), t), noise), Adam(model.parameters(), lr=LR))


def _ddpm_twin():
    import torch

    from ..twins import ddpm as twin

    noisy, t, noise = _ddpm_batch()
    model = twin.build(torch)
    noisy, noise = torch.from_numpy(noisy), torch.from_numpy(noise)
    return _adam_step(lambda: torch.nn.functional.mse_loss(model(noisy, t), noise),
                      torch.optim.Adam(model.parameters(), lr=LR))


def _simclr_views():
    from assignments import simclr
    from assignments.augment import contrastive_augmentation, two_views

    images, _ = _mnist_batch(simclr.DEFAULTS["batch_size"])
    return np.concatenate(two_views(images, contrastive_augmentation(), rng=0))


def _simclr_ours():
    from assignments import simclr

    views = _simclr_views()
    n = len(views) // 2
    model = simclr.ContrastiveNet(views.shape[1:], rng=0)

    def loss():
        z = model(mg.Tensor(views))
        return nt_xent_loss(z[:n], z[n:], simclr.TEMPERATURES["simclr"])

    return _adam_step(loss, Adam(model.parameters(), lr=LR))


def _simclr_twin():
    import torch

    from assignments import simclr

    from ..twins import simclr as twin

    views = torch.from_numpy(_simclr_views())
    n = len(views) // 2
    model = twin.build(torch, tuple(views.shape[1:]))

    def loss():
        z = model(views)
        return twin.nt_xent(torch, z[:n], z[n:], simclr.TEMPERATURES["simclr"])

    return _adam_step(loss, torch.optim.Adam(model.parameters(), lr=LR))

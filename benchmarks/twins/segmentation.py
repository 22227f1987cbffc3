"""Twin of ``python -m assignments run segmentation``: the same U-Net and FCN in torch.nn.

``python -m benchmarks.twins.segmentation [--model unet|fcn] [--epochs N] [--quick]``
prints the test mean IoU (11 classes), pixel accuracy, the validation mean IoU of each
epoch and the training time, on the same digit scenes, schedule and seed.
"""
import copy
import time

import numpy as np

from assignments import segmentation
from assignments.scenes import NUM_CLASSES
from classic_cv.metrics import class_iou, confusion_matrix

from .common import scene_parser, setup


def build(torch, name, widths=segmentation.WIDTHS, in_channels=1, num_classes=NUM_CLASSES):
    nn = torch.nn

    def double_conv(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                             nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = nn.ModuleList(double_conv(cin, cout) for cin, cout in zip((in_channels,) + widths, widths))
            self.upsample = nn.ModuleList(nn.ConvTranspose2d(deep, shallow, 2, stride=2)
                                          for deep, shallow in zip(widths[:0:-1], widths[-2::-1]))
            self.up = nn.ModuleList(double_conv(2 * w, w) for w in widths[-2::-1])
            self.head = nn.Conv2d(widths[0], num_classes, 1)

        def forward(self, x):
            skips = []
            for level, block in enumerate(self.down):
                x = block(x if level == 0 else nn.functional.max_pool2d(x, 2))
                skips.append(x)
            for upsample, block, skip in zip(self.upsample, self.up, skips[-2::-1]):
                x = block(torch.cat([skip, upsample(x)], 1))
            return self.head(x)

    class FCN(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = nn.ModuleList(double_conv(cin, cout) for cin, cout in zip((in_channels,) + widths, widths))
            self.score = nn.ModuleList(nn.Conv2d(w, num_classes, 1) for w in widths[-3:])
            self.upsample = nn.ModuleList(nn.ConvTranspose2d(num_classes, num_classes, 4, 2, 1, bias=False)
                                          for _ in range(2))
            final = 2 ** (len(widths) - 3)
            self.final = (None if final == 1 else
                          nn.ConvTranspose2d(num_classes, num_classes, 2 * final, final, final // 2, bias=False))
            with torch.no_grad():
                for layer in [*self.upsample] + ([self.final] if self.final is not None else []):
                    layer.weight.copy_(torch.from_numpy(
                        segmentation.bilinear_kernel(num_classes, layer.weight.shape[-1])))

        def forward(self, x):
            features = []
            for level, block in enumerate(self.down):
                x = block(x if level == 0 else nn.functional.max_pool2d(x, 2))
                features.append(x)
            shallow, middle, deep = (score(f) for score, f in zip(self.score, features[-3:]))
            fused = self.upsample[1](self.upsample[0](deep) + middle) + shallow
            return fused if self.final is None else self.final(fused)

    return {"unet": UNet, "fcn": FCN}[name]()


def loss_fn(torch, scores, masks, loss):
    """The script's ``segmentation_loss``: cross-entropy, plus the soft Dice loss (smooth 1,
    averaged over images and classes) for ``"ce+dice"``."""
    value = torch.nn.functional.cross_entropy(scores, masks)
    if loss == "ce+dice":
        probs = scores.softmax(1)
        onehot = torch.nn.functional.one_hot(masks, NUM_CLASSES).permute(0, 3, 1, 2).to(probs.dtype)
        intersection = (probs * onehot).sum((2, 3))
        value = value + (1 - (2 * intersection + 1) / (probs.sum((2, 3)) + onehot.sum((2, 3)) + 1)).mean()
    return value


def evaluate(torch, model, scenes, batch_size=200):
    model.eval()
    with torch.no_grad():
        predicted = np.concatenate([model(torch.from_numpy(scenes.images[i:i + batch_size])).argmax(1).numpy()
                                    for i in range(0, len(scenes), batch_size)])
    model.train()
    confusion = confusion_matrix(predicted, scenes.masks, NUM_CLASSES)
    return float(np.nanmean(class_iou(confusion))), float(np.trace(confusion) / confusion.sum())


def train(torch, model, scenes, args):
    """The script's loop: Adam, per-step cosine to zero, best validation epoch restored."""
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * -(-len(scenes.train) // args.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    rng = np.random.default_rng(args.seed)
    val_iou, best = [], None
    for _ in range(args.epochs):
        order = rng.permutation(len(scenes.train))
        for start in range(0, len(order), args.batch_size):
            batch = order[start:start + args.batch_size]
            scores = model(torch.from_numpy(scenes.train.images[batch]))
            loss = loss_fn(torch, scores, torch.from_numpy(scenes.train.masks[batch]), args.loss)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        val_iou.append(evaluate(torch, model, scenes.val)[0])
        print(f"epoch {len(val_iou)}: validation mean IoU {val_iou[-1]:.4f}", flush=True)
        if best is None or val_iou[-1] > max(val_iou[:-1]):
            best = copy.deepcopy(model.state_dict())
    model.load_state_dict(best)
    return val_iou


def main():
    options = segmentation.OPTIONS
    args = scene_parser(segmentation, model={"choices": segmentation.MODELS, "default": options["model"]},
                        loss={"choices": segmentation.LOSSES, "default": options["loss"]}).parse_args()
    torch = setup(args.threads, args.seed)
    start = time.perf_counter()
    scenes = segmentation.load_scenes(args)
    model = build(torch, args.model)
    with torch.no_grad():  # the script's start: scores at the log class frequencies
        (model.head if args.model == "unet" else model.score[0]).bias.copy_(
            torch.from_numpy(segmentation.class_log_frequencies(scenes.train.masks)))
    tic = time.perf_counter()
    val_iou = train(torch, model, scenes, args)
    seconds = time.perf_counter() - tic
    test_iou, pixel_accuracy = evaluate(torch, model, scenes.test)
    print(f"{args.model}: test mean IoU {test_iou:.4f}, pixel accuracy {pixel_accuracy:.2%}, training {seconds:.1f} s, "
          f"validation mean IoU per epoch {[round(v, 4) for v in val_iou]}")
    print(f"wall {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()

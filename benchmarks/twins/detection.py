"""Twin of ``python -m assignments run detection``: the same detector and losses in torch.

``python -m benchmarks.twins.detection [--epochs N] [--quick]`` prints the test VOC
mAP@0.5, COCO mAP@0.5:0.95, the validation mAP@0.5 of each epoch and the training
time. Targets, decoding, non-maximum suppression and evaluation are the script's own
(NumPy and classic_cv), so only the network and its training differ.
"""
import copy
import time

import numpy as np

from assignments import detection
from classic_cv.boxes import mean_average_precision

from .common import scene_parser, setup


def build(torch, in_channels=1, num_classes=detection.NUM_CLASSES):
    nn = torch.nn

    def conv_bn_relu(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    class CellDetector(nn.Module):
        def __init__(self):
            super().__init__()
            self.stride4 = nn.Sequential(*conv_bn_relu(in_channels, 16), nn.MaxPool2d(2), *conv_bn_relu(16, 32),
                                         nn.MaxPool2d(2), *conv_bn_relu(32, 64), *conv_bn_relu(64, 64))
            self.stride8 = nn.Sequential(nn.MaxPool2d(2), *conv_bn_relu(64, 64), *conv_bn_relu(64, 64),
                                         nn.Upsample(scale_factor=2))
            self.fuse = nn.Sequential(*conv_bn_relu(64, 64))
            self.classes = nn.Sequential(nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, num_classes, 1))
            self.boxes = nn.Sequential(nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 4, 1))
            with torch.no_grad():
                self.classes[2].bias.fill_(-np.log((1 - detection.PRIOR) / detection.PRIOR))

        def forward(self, x):
            fine = self.stride4(x)
            features = self.fuse(fine + self.stride8(fine))
            return self.classes(features), self.boxes(features)

    return CellDetector()


def loss_fn(torch, logits, distances, heat, target_distances, positive):
    """The script's ``detection_loss``: focal (torchvision's definition) + masked smooth L1, per positive cell."""
    f = torch.nn.functional
    p = torch.sigmoid(logits)
    ce = f.binary_cross_entropy_with_logits(logits, heat, reduction="none")
    p_t = p * heat + (1 - p) * (1 - heat)
    focal = (0.25 * heat + 0.75 * (1 - heat)) * ce * (1 - p_t) ** 2
    regression = f.smooth_l1_loss(distances * positive, target_distances * positive, reduction="sum", beta=1 / 9)
    return (focal.sum() + regression) / max(float(positive.sum()), 1.0)


def evaluate(torch, model, scenes, args, batch_size=200):
    model.eval()
    found = []
    with torch.no_grad():
        for i in range(0, len(scenes), batch_size):
            logits, distances = model(torch.from_numpy(scenes.images[i:i + batch_size]))
            found += [detection.decode(c, d, args.score_threshold, args.nms_iou)
                      for c, d in zip(logits.numpy(), distances.numpy())]
    model.train()
    truth = detection.ground_truths(scenes)
    return (mean_average_precision(found, truth, iou_thresholds=[0.5], interpolation="all").map,
            mean_average_precision(found, truth).map)


def train(torch, model, scenes, args):
    """The script's loop: Adam, per-step cosine to zero, best validation epoch restored."""
    heat, target_distances, positive = (torch.from_numpy(a) for a in detection.encode_all(scenes.train))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * -(-len(scenes.train) // args.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    rng = np.random.default_rng(args.seed)
    val_map, best = [], None
    for _ in range(args.epochs):
        order = rng.permutation(len(scenes.train))
        for start in range(0, len(order), args.batch_size):
            batch = torch.from_numpy(order[start:start + args.batch_size])
            logits, distances = model(torch.from_numpy(scenes.train.images[batch.numpy()]))
            loss = loss_fn(torch, logits, distances, heat[batch], target_distances[batch], positive[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        val_map.append(evaluate(torch, model, scenes.val, args)[0])
        print(f"epoch {len(val_map)}: validation mAP@0.5 {val_map[-1]:.4f}", flush=True)
        if best is None or val_map[-1] > max(val_map[:-1]):
            best = copy.deepcopy(model.state_dict())
    model.load_state_dict(best)
    return val_map


def main():
    args = scene_parser(detection).parse_args()
    args.score_threshold, args.nms_iou = detection.OPTIONS["score_threshold"], detection.OPTIONS["nms_iou"]
    torch = setup(args.threads, args.seed)
    start = time.perf_counter()
    scenes = detection.load_scenes(args)
    model = build(torch)
    tic = time.perf_counter()
    val_map = train(torch, model, scenes, args)
    seconds = time.perf_counter() - tic
    voc, coco = evaluate(torch, model, scenes.test, args)
    print(f"detection: test mAP@0.5 {voc:.4f}, mAP@0.5:0.95 {coco:.4f}, training {seconds:.1f} s, "
          f"validation mAP@0.5 per epoch {[round(v, 4) for v in val_map]}")
    print(f"wall {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()

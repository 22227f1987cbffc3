"""Object detection on digit scenes: a one-stage, anchor-free detector of the ten digits.

The course's YOLO and CenterNet discussion in one small model. A convolutional backbone
reduces a 64 x 64 scene to a 16 x 16 grid of cells (stride 4), with a second, coarser
branch (stride 8, upsampled and added back) so that every cell sees a whole 36-pixel
digit. Two dense heads predict, at every cell:

- a score per digit class (10 sigmoid outputs: a class-wise centre heat-map, as in
  CenterNet; a cell's objectness is its best class score), trained with RetinaNet's
  focal loss, whose output bias starts at the prior 0.01 so the rare positives are not
  drowned at the start;
- the distances from the cell's centre to the box's four sides (left, top, right,
  bottom, in cells, as log-distances), trained with the smooth L1 loss on the positive
  cells only.

A cell is a positive of a digit when it lies in the 3 x 3 cells around the one holding
the box's centre and its own centre is inside the box (the smaller box wins a shared
cell). Decoding keeps the cells scoring above 0.05, turns their distances into boxes,
and suppresses duplicates class by class (non-maximum suppression at IoU 0.5), at most
100 boxes per scene. Evaluation uses :mod:`classic_cv`'s COCO-style matching: VOC's
mAP at IoU 0.5 (all-point interpolation) and COCO's mAP over IoU 0.5:0.95.
"""
import time

import numpy as np

import minigrad as mg
from classic_cv.boxes import batched_nms, detection_pr_curves, mean_average_precision
from layers.activations import ReLU
from layers.container import Sequential
from layers.conv import Conv2d
from layers.losses import sigmoid_focal_loss, smooth_l1_loss
from layers.pooling import MaxPool2d
from layers.upsample import Upsample
from minigrad.validation import as_generator, check_int
from optim import Adam, CosineAnnealingLR, check_step

from . import plots
from .cli import progress, save_checkpoint
from .models import conv_bn_relu
from .scenes import load_digit_scenes
from .settings import declare, integer, number, training

DESCRIPTION = "digit scenes -> boxes: one-stage anchor-free detector, focal + smooth L1, NMS, VOC/COCO mAP"
DEFAULTS = training(epochs=6, batch_size=32, lr=2e-3)
NUM_CLASSES = 10
STRIDE = 4  # pixels per cell of the output grid
PRIOR = 0.01  # initial class probability (RetinaNet's bias initialisation)
MAX_DETECTIONS = 100
OPTIONS = declare(train_scenes=integer(8000, low=1), eval_scenes=integer(1000, low=1),
                  score_threshold=number(0.05, low=0, high=1, high_open=True),
                  nms_iou=number(0.5, low=0, high=1))
QUICK_SCENES = (600, 100)  # train and eval scenes of a --quick run
SHOWN = 8  # test scenes drawn with their boxes
# Detections drawn: mAP counts every box above score_threshold, but a picture of all of them
# hides the confident ones under dozens of low-scoring duplicates.
SHOWN_SCORE = 0.3


class CellDetector(mg.Module):
    """Backbone and two heads: images (N, C, H, W) -> (class logits (N, K, H/4, W/4),
    box log-distances (N, 4, H/4, W/4)).

    Parameters
    ----------
    in_channels, num_classes : int
    rng : numpy Generator, int or None
    """

    def __init__(self, in_channels, num_classes, rng=None):
        super().__init__()
        in_channels = check_int("CellDetector", "in_channels", in_channels, low=1)
        num_classes = check_int("CellDetector", "num_classes", num_classes, low=1)
        rng = as_generator("CellDetector", "rng", rng)
        self.stride4 = Sequential(*conv_bn_relu(in_channels, 16, rng), MaxPool2d(2),
                                  *conv_bn_relu(16, 32, rng), MaxPool2d(2),
                                  *conv_bn_relu(32, 64, rng), *conv_bn_relu(64, 64, rng))
        self.stride8 = Sequential(MaxPool2d(2), *conv_bn_relu(64, 64, rng), *conv_bn_relu(64, 64, rng),
                                  Upsample(2))
        self.fuse = Sequential(*conv_bn_relu(64, 64, rng))
        self.classes = Sequential(Conv2d(64, 32, 3, padding=1, rng=rng), ReLU(), Conv2d(32, num_classes, 1, rng=rng))
        self.boxes = Sequential(Conv2d(64, 32, 3, padding=1, rng=rng), ReLU(), Conv2d(32, 4, 1, rng=rng))
        self.classes[2].bias.data[...] = -np.log((1 - PRIOR) / PRIOR)

    def forward(self, x):
        fine = self.stride4(x)
        features = self.fuse(fine + self.stride8(fine))
        return self.classes(features), self.boxes(features)


def build_model(seed):
    """The detector for one-channel scenes and the ten digits."""
    return CellDetector(1, NUM_CLASSES, rng=seed)


def load_scenes(args):
    """The digit scenes of the run: ``train_scenes`` / ``eval_scenes`` x 2 (``--quick``: a few)."""
    n_train, n_eval = QUICK_SCENES if args.quick else (args.train_scenes, args.eval_scenes)
    return load_digit_scenes(n_train, n_eval, n_eval, seed=args.seed)


def cell_centres(grid):
    """(grid,) pixel coordinate of each cell's centre along one axis."""
    return (np.arange(grid) + 0.5) * STRIDE


def encode_targets(boxes, labels, size):
    """The training targets of one scene.

    Parameters
    ----------
    boxes : (K, 4) (x1, y1, x2, y2) in pixels; labels : (K,) digits
    size : the scene's side in pixels (a multiple of ``STRIDE``)

    Returns
    -------
    heat : (NUM_CLASSES, G, G) float32, 1 at each positive cell in its digit's channel
    distances : (4, G, G) float32, log((left, top, right, bottom) / STRIDE) at positive cells, 0 elsewhere
    positive : (G, G) bool
    """
    grid = size // STRIDE
    centres = cell_centres(grid)
    owner = np.full((grid, grid), -1)
    # Largest first, so that a smaller box overwrites a cell it shares with a larger one.
    for k in np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), kind="stable"):
        x1, y1, x2, y2 = boxes[k]
        ci, cj = int((y1 + y2) / 2 // STRIDE), int((x1 + x2) / 2 // STRIDE)
        rows, cols = np.arange(max(ci - 1, 0), min(ci + 2, grid)), np.arange(max(cj - 1, 0), min(cj + 2, grid))
        rows, cols = rows[(centres[rows] > y1) & (centres[rows] < y2)], cols[(centres[cols] > x1) & (centres[cols] < x2)]
        owner[np.ix_(rows, cols)] = k
    positive = owner >= 0
    heat = np.zeros((NUM_CLASSES, grid, grid), dtype=np.float32)
    distances = np.zeros((4, grid, grid), dtype=np.float32)
    i, j = np.nonzero(positive)
    k = owner[i, j]
    heat[labels[k], i, j] = 1.0
    x, y = centres[j], centres[i]
    sides = np.stack([x - boxes[k, 0], y - boxes[k, 1], boxes[k, 2] - x, boxes[k, 3] - y])
    distances[:, i, j] = np.log(sides / STRIDE)
    return heat, distances, positive


def encode_all(scenes):
    """``encode_targets`` of every scene, stacked: heat (S, K, G, G), distances (S, 4, G, G), positive (S, 1, G, G)."""
    size = scenes.images.shape[-1]
    heat, distances, positive = zip(*(encode_targets(b, l, size) for b, l in zip(scenes.boxes, scenes.labels)))
    return np.stack(heat), np.stack(distances), np.stack(positive)[:, None].astype(np.float32)


def detection_loss(class_logits, distances, heat, target_distances, positive):
    """Focal loss over every cell and class plus smooth L1 on the positive cells' distances,
    both summed and divided by the number of positive cells (at least 1)."""
    count = max(float(positive.sum()), 1.0)
    classification = sigmoid_focal_loss(class_logits, heat, reduction="sum")
    # Multiplying both sides by the 0/1 mask leaves the negative cells with no loss and no gradient.
    mask = mg.Tensor(positive.astype(distances.dtype))
    regression = smooth_l1_loss(distances * mask, target_distances * positive, reduction="sum", beta=1 / 9)
    return (classification + regression) / count


def decode(class_logits, distances, score_threshold=0.05, iou_threshold=0.5, max_detections=MAX_DETECTIONS):
    """Boxes of one scene from its dense predictions.

    Parameters
    ----------
    class_logits : (K, G, G); distances : (4, G, G) log-distances in cells

    Returns
    -------
    dict with 'boxes' (D, 4) xyxy clipped to the scene, 'scores' (D,), 'classes' (D,),
    best first after class-wise non-maximum suppression.
    """
    grid = class_logits.shape[-1]
    scores = 1 / (1 + np.exp(-class_logits.astype(np.float64)))
    classes, i, j = np.nonzero(scores > score_threshold)
    found = scores[classes, i, j]
    top = np.argsort(-found, kind="stable")[:10 * max_detections]
    classes, i, j, found = classes[top], i[top], j[top], found[top]
    sides = np.exp(distances[:, i, j].astype(np.float64)) * STRIDE
    x, y = cell_centres(grid)[j], cell_centres(grid)[i]
    boxes = np.clip(np.stack([x - sides[0], y - sides[1], x + sides[2], y + sides[3]], axis=1), 0, grid * STRIDE)
    keep = batched_nms(boxes, found, classes, iou_threshold)[:max_detections]
    return {"boxes": boxes[keep], "scores": found[keep], "classes": classes[keep]}


def detect(model, images, args, batch_size=200):
    """Decoded detections (one dict per scene) of ``images`` (N, 1, H, W), in eval mode."""
    was_training = model.training
    model.eval()
    detections = []
    with mg.no_grad():
        for i in range(0, len(images), batch_size):
            logits, distances = model(mg.Tensor(images[i:i + batch_size]))
            detections += [decode(c, d, args.score_threshold, args.nms_iou) for c, d in zip(logits.data, distances.data)]
    model.train(was_training)
    return detections


def ground_truths(scenes):
    return [{"boxes": b, "classes": c} for b, c in zip(scenes.boxes, scenes.labels)]


def evaluate(model, scenes, args):
    """``(VOC mAP@0.5, COCO mAP@0.5:0.95, detections)`` on ``scenes``."""
    detections = detect(model, scenes.images, args)
    truth = ground_truths(scenes)
    voc = mean_average_precision(detections, truth, iou_thresholds=[0.5], interpolation="all").map
    coco = mean_average_precision(detections, truth).map
    return voc, coco, detections


def train(model, scenes, args):
    """Adam with a per-step cosine schedule; keeps the weights of the best validation epoch
    (by VOC mAP@0.5). Returns the per-step losses and per-epoch validation mAP@0.5."""
    heat, target_distances, positive = encode_all(scenes.train)
    optimizer = Adam(model.parameters(), lr=args.lr)
    schedule = CosineAnnealingLR(optimizer, args.epochs * -(-len(scenes.train) // args.batch_size))
    rng = np.random.default_rng(args.seed)
    losses, val_map, best = [], [], None
    for epoch in progress(range(1, args.epochs + 1), desc="epochs"):
        order = rng.permutation(len(scenes.train))
        for start in range(0, len(order), args.batch_size):
            batch = order[start:start + args.batch_size]
            lr = optimizer.param_groups[0]["lr"]
            logits, distances = model(mg.Tensor(scenes.train.images[batch]))
            loss = detection_loss(logits, distances, heat[batch], target_distances[batch], positive[batch])
            losses.append(check_step("detection", loss.item(), len(losses) + 1, epoch, lr))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        val_map.append(evaluate(model, scenes.val, args)[0])
        if best is None or val_map[-1] > max(val_map[:-1]):
            best = model.state_dict()
    model.load_state_dict(best)
    return losses, val_map


def main(args):
    scenes = load_scenes(args)
    model = build_model(args.seed)
    start = time.perf_counter()
    losses, val_map = train(model, scenes, args)
    seconds = time.perf_counter() - start
    test_voc, test_coco, detections = evaluate(model, scenes.test, args)
    truth = ground_truths(scenes.test)
    per_class = mean_average_precision(detections, truth, iou_thresholds=[0.5], interpolation="all")

    confident = [{key: value[found["scores"] >= SHOWN_SCORE] for key, value in found.items()}
                 for found in detections[:SHOWN]]
    plots.detections(f"{args.out}/detections.png", scenes.test.images[:SHOWN], truth[:SHOWN], confident,
                     NUM_CLASSES, f"test scenes: true boxes (white) and detections scoring {SHOWN_SCORE} or more")
    plots.precision_recall(f"{args.out}/precision_recall.png", detection_pr_curves(detections, truth),
                           f"test precision-recall per digit at IoU 0.5 (mAP {test_voc:.3f})")
    plots.curves(f"{args.out}/val_map.png", {"validation": val_map}, "epoch", "mAP@0.5 (VOC)", "validation mAP@0.5")
    plots.curves(f"{args.out}/train_loss.png", {"training": losses}, "iteration", "loss per positive cell",
                 "focal + smooth L1")
    save_checkpoint(args, **{f"model.{k}": v for k, v in model.state_dict().items()})
    return {"test_map50": test_voc, "test_map": test_coco,
            "test_class_ap50": dict(zip(per_class.classes.tolist(), per_class.ap[:, 0].tolist())),
            "val_map50_history": val_map, "losses": losses, "train_seconds": seconds}

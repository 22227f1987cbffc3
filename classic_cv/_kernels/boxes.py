"""Numba kernels for boxes: pairwise IoU, greedy and soft NMS, COCO's detection matching.

Boxes are clean (N, 4) float64 arrays of (x1, y1, x2, y2) with x2 >= x1 and
y2 >= y1; every kernel computes the overlap of two boxes with ``_overlap`` so that
IoU matrices and the suppression loops agree to the last bit.
"""
import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _overlap(ax1, ay1, ax2, ay2, area_a, bx1, by1, bx2, by2, area_b, crowd):
    """IoU of boxes a and b given their corners and areas; with ``crowd``, intersection
    over the area of ``a`` alone (COCO's rule for crowd regions). No overlap gives 0.
    Branch-free, so that loops over ``b`` vectorise."""
    w = min(ax2, bx2) - max(ax1, bx1)
    h = min(ay2, by2) - max(ay1, by1)
    inter = w * h if (w > 0.0) & (h > 0.0) else 0.0
    union = area_a if crowd else area_a + area_b - inter
    return inter / union if inter > 0.0 else 0.0


@njit(cache=True)
def _columns(boxes, order):
    """Corners and areas of ``boxes[order]`` as five contiguous arrays."""
    n = order.shape[0]
    x1, y1, x2, y2, area = np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for a in range(n):
        box = boxes[order[a]]
        x1[a], y1[a], x2[a], y2[a] = box[0], box[1], box[2], box[3]
        area[a] = (box[2] - box[0]) * (box[3] - box[1])
    return x1, y1, x2, y2, area


@njit(cache=True)
def box_iou(boxes1, boxes2, crowd, out):
    """``out[i, j]`` = IoU of ``boxes1[i]`` and ``boxes2[j]``; ``crowd[j]`` makes column
    ``j`` a crowd region (intersection over the area of ``boxes1[i]``)."""
    x1, y1, x2, y2, area = _columns(boxes2, np.arange(boxes2.shape[0]))
    for i in range(boxes1.shape[0]):
        a = boxes1[i]
        area_a = (a[2] - a[0]) * (a[3] - a[1])
        row = out[i]
        for j in range(x1.shape[0]):
            row[j] = _overlap(a[0], a[1], a[2], a[3], area_a, x1[j], y1[j], x2[j], y2[j], area[j], crowd[j])


@njit(cache=True)
def greedy_nms(boxes, order, iou_threshold):
    """Greedy NMS over the candidates ``order`` (indices, best score first): keep the
    best remaining candidate, suppress every later one whose IoU with it exceeds
    ``iou_threshold``, repeat. Returns the kept indices in order of selection."""
    n = order.shape[0]
    x1, y1, x2, y2, area = _columns(boxes, order)
    suppressed = np.zeros(n, dtype=np.bool_)
    keep = np.empty(n, dtype=np.int64)
    count = 0
    for a in range(n):
        if suppressed[a]:
            continue
        keep[count] = order[a]
        count += 1
        for b in range(a + 1, n):
            if not suppressed[b]:
                iou = _overlap(x1[a], y1[a], x2[a], y2[a], area[a], x1[b], y1[b], x2[b], y2[b], area[b], False)
                suppressed[b] = iou > iou_threshold
    return keep[:count]


@njit(cache=True)
def soft_nms(boxes, scores, gaussian, sigma, iou_threshold, score_threshold):
    """Soft-NMS (Bodla et al. 2017): take the highest-scoring remaining box (lowest
    index among ties), decay the others' scores by their IoU with it, drop those
    whose score fell to ``score_threshold`` or below, repeat.

    Decay: ``exp(-iou^2 / sigma)`` when ``gaussian``, else ``1 - iou`` for IoU above
    ``iou_threshold`` (1 below). Returns (kept indices in order of selection, their
    scores when selected)."""
    n = boxes.shape[0]
    x1, y1, x2, y2, area = _columns(boxes, np.arange(n))
    current = scores.copy()
    alive = current > score_threshold
    keep = np.empty(n, dtype=np.int64)
    kept_scores = np.empty(n, dtype=np.float64)
    count = 0
    while True:
        best = -1
        for i in range(n):
            if alive[i] and (best < 0 or current[i] > current[best]):
                best = i
        if best < 0:
            break
        alive[best] = False
        keep[count] = best
        kept_scores[count] = current[best]
        count += 1
        for i in range(n):
            if alive[i]:
                iou = _overlap(x1[best], y1[best], x2[best], y2[best], area[best],
                               x1[i], y1[i], x2[i], y2[i], area[i], False)
                if gaussian:
                    current[i] *= np.exp(-iou * iou / sigma)
                elif iou > iou_threshold:
                    current[i] *= 1.0 - iou
                alive[i] = current[i] > score_threshold
    return keep[:count], kept_scores[:count]


@njit(cache=True)
def match_detections(ious, gt_ignore, gt_crowd, thresholds):
    """COCO's greedy matching of one image and class, at each IoU threshold.

    ``ious`` (D, G) holds detections sorted by score (best first) against ground
    truths sorted with the ignored ones last. Each detection in turn takes the
    ground truth of highest IoU (at least the threshold, capped at 1 - 1e-10; the
    last one on ties) among those not yet taken (crowd regions can be taken many
    times), preferring any regular ground truth to an ignored one. Returns
    ``matched`` (T, D) and ``ignored`` (T, D): matched to an ignored ground truth.
    """
    n_t, n_d, n_g = thresholds.shape[0], ious.shape[0], ious.shape[1]
    matched = np.zeros((n_t, n_d), dtype=np.bool_)
    ignored = np.zeros((n_t, n_d), dtype=np.bool_)
    for t in range(n_t):
        taken = np.zeros(n_g, dtype=np.bool_)
        for d in range(n_d):
            best_iou = min(thresholds[t], 1 - 1e-10)
            m = -1
            for g in range(n_g):
                if taken[g] and not gt_crowd[g]:
                    continue
                # Ignored ground truths come last: a regular match is never traded for one.
                if m > -1 and not gt_ignore[m] and gt_ignore[g]:
                    break
                if ious[d, g] < best_iou:
                    continue
                best_iou = ious[d, g]
                m = g
            if m > -1:
                matched[t, d] = True
                ignored[t, d] = gt_ignore[m]
                taken[m] = True
    return matched, ignored

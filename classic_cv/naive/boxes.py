"""Plain NumPy twins of ``classic_cv._kernels.boxes``."""
import numpy as np


def box_iou(boxes1, boxes2, crowd):
    """All pairs at once by broadcasting (N, 1, 4) against (1, M, 4)."""
    a, b = boxes1[:, None, :], boxes2[None, :, :]
    w = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    h = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    inter = np.where((w > 0) & (h > 0), w * h, 0.0)
    area1 = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area2 = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = np.where(crowd[None, :], area1, area1 + area2 - inter)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(inter > 0, inter / union, 0.0)


def greedy_nms(boxes, order, iou_threshold):
    """The course's statement: keep the best remaining box, drop the remaining boxes that
    overlap it by more than the threshold, repeat until none remain."""
    iou = box_iou(boxes, boxes, np.zeros(len(boxes), dtype=bool))
    remaining = list(order)
    keep = []
    while remaining:
        best = remaining.pop(0)
        keep.append(best)
        remaining = [i for i in remaining if not iou[best, i] > iou_threshold]
    return np.array(keep, dtype=np.int64)


def soft_nms(boxes, scores, gaussian, sigma, iou_threshold, score_threshold):
    """Bodla et al.'s loop over a shrinking set of candidates."""
    iou = box_iou(boxes, boxes, np.zeros(len(boxes), dtype=bool))
    current = scores.astype(np.float64)
    candidates = [i for i in range(len(boxes)) if current[i] > score_threshold]
    keep, kept_scores = [], []
    while candidates:
        best = max(candidates, key=lambda i: (current[i], -i))
        candidates.remove(best)
        keep.append(best)
        kept_scores.append(current[best])
        for i in candidates:
            if gaussian:
                current[i] *= np.exp(-iou[best, i] ** 2 / sigma)
            elif iou[best, i] > iou_threshold:
                current[i] *= 1.0 - iou[best, i]
        candidates = [i for i in candidates if current[i] > score_threshold]
    return np.array(keep, dtype=np.int64), np.array(kept_scores)


def match_detections(ious, gt_ignore, gt_crowd, thresholds):
    """Each detection (best first) takes, among the ground truths still free (crowd regions
    always are) with IoU >= the threshold, the one of highest IoU (the last of equals),
    choosing among ignored ground truths only when no regular one qualifies."""
    n_t, (n_d, n_g) = len(thresholds), ious.shape
    matched = np.zeros((n_t, n_d), dtype=bool)
    ignored = np.zeros((n_t, n_d), dtype=bool)
    for t, threshold in enumerate(thresholds):
        taken = np.zeros(n_g, dtype=bool)
        for d in range(n_d):
            free = (~taken | gt_crowd) & (ious[d] >= min(threshold, 1 - 1e-10))
            for pool in (free & ~gt_ignore, free & gt_ignore):
                if pool.any():
                    candidates = np.flatnonzero(pool)
                    best = candidates[np.flatnonzero(ious[d, candidates] == ious[d, candidates].max())[-1]]
                    matched[t, d], ignored[t, d], taken[best] = True, gt_ignore[best], True
                    break
    return matched, ignored

"""Boxes for object detection: IoU, non-maximum suppression, average precision, COCO mAP.

Boxes are ``(x1, y1, x2, y2)`` rows of an (N, 4) array ("xyxy", x along
columns), with ``x2 >= x1`` and ``y2 >= y1``; a box of zero width or height is
allowed and overlaps nothing. Widths are ``x2 - x1`` (no "+1" pixel
convention, like OpenCV's ``Rect2d``, pycocotools and torchvision).

Conventions shared by every function here:

- IoU is ``intersection / union``; an empty union counts as no overlap (0),
  as in pycocotools (OpenCV's NMS treats two empty boxes as identical).
- Scores are sorted best first with a stable sort: equal scores keep the
  order of their indices.
- Suppression drops a box whose IoU with a kept box is *greater than*
  ``iou_threshold`` (equal is kept); a ``score_threshold`` drops the boxes whose
  score is at most the threshold. Both are OpenCV's ``NMSBoxes`` rules.
- Matching a detection to a ground truth needs IoU *at least* the threshold
  (COCO's rule; the VOC devkit asks for more than 0.5).
"""
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from minigrad.validation import check_choice, check_int, check_int_array, check_ndim, check_number

from ._kernels import boxes as _k
from ._validate import as_float_array

#: COCO's IoU thresholds 0.50, 0.55, ..., 0.95 (computed as pycocotools does, so
#: that a tie with a threshold resolves the same way).
COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
INTERPOLATIONS = ("all", "11point", "101point")
_FORMAT_NAMES = {"xyxy": "(x1, y1, x2, y2)", "xywh": "(x, y, w, h)", "cxcywh": "(cx, cy, w, h)"}
BOX_FORMATS = tuple(_FORMAT_NAMES)


# ---------------------------------------------------------------- checks
def _check_boxes(func, name, boxes, fmt="xyxy"):
    """(N, 4) finite boxes in format ``fmt`` with no negative side (N may be 0),
    returned as float64 xyxy."""
    boxes = np.empty((0, 4)) if _is_empty_list(boxes) else boxes
    boxes = as_float_array(func, name, boxes, ndim=2, allow_empty=True)
    if boxes.shape[1] != 4:
        raise ValueError(f"{func}: {name} must have shape (N, 4) as {_FORMAT_NAMES[fmt]}, got shape {boxes.shape}")
    xyxy = _to_xyxy(boxes, fmt)
    flipped = np.flatnonzero((xyxy[:, 2] < xyxy[:, 0]) | (xyxy[:, 3] < xyxy[:, 1]))
    if flipped.size:
        i = flipped[0]
        wanted = "x2 >= x1 and y2 >= y1" if fmt == "xyxy" else "w >= 0 and h >= 0"
        raise ValueError(f"{func}: {name} must have {wanted} in each {_FORMAT_NAMES[fmt]} row, "
                         f"got {boxes[i].tolist()} in row {i}")
    return xyxy


def _check_scores(func, name, scores, n):
    """(n,) float64 finite scores, one per box."""
    scores = np.empty(0) if _is_empty_list(scores) else scores
    return _check_length(func, name, as_float_array(func, name, scores, ndim=1, allow_empty=True), n)


def _check_classes(func, name, classes, n):
    """(n,) integer class ids, one per box."""
    classes = np.empty(0, dtype=np.int64) if _is_empty_list(classes) else classes
    return _check_length(func, name, check_int_array(func, name, classes, ndim=1), n)


def _check_flags(func, name, flags, n):
    """(n,) bool flags, one per box, from booleans or the integers 0 and 1."""
    flags = np.empty(0, dtype=bool) if _is_empty_list(flags) else np.asarray(flags)
    if flags.dtype != bool:
        flags = check_int_array(func, name, flags)
        if ((flags != 0) & (flags != 1)).any():
            raise ValueError(f"{func}: {name} must hold booleans or 0/1, got values {np.unique(flags)[:5]}")
    check_ndim(func, name, flags, 1)
    return _check_length(func, name, flags.astype(bool), n)


def _is_empty_list(value):
    """An empty Python list or tuple: its dtype would be float, so it is given one."""
    return isinstance(value, (list, tuple)) and len(value) == 0


def _check_length(func, name, values, n):
    if len(values) != n:
        raise ValueError(f"{func}: {name} must have one entry per box ({n}), got {len(values)}")
    return values


def _check_iou_threshold(func, value, name="iou_threshold"):
    return check_number(func, name, value, low=0.0, high=1.0)


def _check_score_threshold(func, value):
    return None if value is None else check_number(func, "score_threshold", value)


# ------------------------------------------------------------- formats
def box_convert(boxes, in_fmt, out_fmt):
    """Convert boxes between corner, corner-size and centre-size formats.

    Parameters
    ----------
    boxes : (N, 4) array_like
        Boxes in ``in_fmt``, with no negative width or height.
    in_fmt, out_fmt : {'xyxy', 'xywh', 'cxcywh'}
        'xyxy': corners (x1, y1, x2, y2), the format of every other function
        here; 'xywh': top-left corner and size (x, y, w, h), OpenCV's ``Rect``
        and COCO's ``bbox``; 'cxcywh': centre and size (cx, cy, w, h).

    Returns
    -------
    converted : (N, 4) float64
    """
    func = "box_convert"
    check_choice(func, "in_fmt", in_fmt, BOX_FORMATS)
    check_choice(func, "out_fmt", out_fmt, BOX_FORMATS)
    xyxy = _check_boxes(func, "boxes", boxes, in_fmt)
    if in_fmt == out_fmt:
        return np.array(boxes, dtype=np.float64).reshape(-1, 4)  # a copy, exact
    size = xyxy[:, 2:] - xyxy[:, :2]
    if out_fmt == "xywh":
        return np.hstack([xyxy[:, :2], size])
    if out_fmt == "cxcywh":
        return np.hstack([xyxy[:, :2] + size / 2, size])
    return xyxy


def _to_xyxy(boxes, fmt):
    """Clean (N, 4) boxes in ``fmt`` as corners (the array itself when already xyxy)."""
    if fmt == "xyxy":
        return boxes
    corner = boxes[:, :2] - boxes[:, 2:] / 2 if fmt == "cxcywh" else boxes[:, :2]
    return np.hstack([corner, corner + boxes[:, 2:]])


# ------------------------------------------------------------------- IoU
def box_iou(boxes1, boxes2):
    """Intersection over union of every pair of boxes.

    Parameters
    ----------
    boxes1 : (N, 4) array_like
        Boxes as (x1, y1, x2, y2) with x2 >= x1, y2 >= y1.
    boxes2 : (M, 4) array_like
        Same format.

    Returns
    -------
    iou : (N, M) float64
        ``iou[i, j]`` = area(boxes1[i] & boxes2[j]) / area(boxes1[i] | boxes2[j]),
        in [0, 1]; 0 where the union is empty.
    """
    func = "box_iou"
    boxes1, boxes2 = _check_boxes(func, "boxes1", boxes1), _check_boxes(func, "boxes2", boxes2)
    return _box_iou(boxes1, boxes2)


def _box_iou(boxes1, boxes2, crowd=None):
    """``box_iou`` of clean arrays; ``crowd`` (M,) bool makes a column a crowd region."""
    out = np.empty((len(boxes1), len(boxes2)))
    _k.box_iou(boxes1, boxes2, np.zeros(len(boxes2), dtype=bool) if crowd is None else crowd, out)
    return out


# ------------------------------------------------------------------- NMS
def _candidates(scores, score_threshold):
    """Indices of the scores above ``score_threshold`` (all if None), best first (stable)."""
    order = np.argsort(-scores, kind="stable")
    return order if score_threshold is None else order[scores[order] > score_threshold]


def nms(boxes, scores, iou_threshold, score_threshold=None):
    """Greedy non-maximum suppression.

    Sort the boxes by score; keep the best one, drop every remaining box whose
    IoU with it is greater than ``iou_threshold``; repeat with the best box
    still remaining, until none remain.

    Parameters
    ----------
    boxes : (N, 4) array_like
        Boxes as (x1, y1, x2, y2).
    scores : (N,) array_like
        Finite confidence of each box (NaN is refused). Equal scores are
        taken in index order.
    iou_threshold : float in [0, 1]
        A box overlapping a kept box by more than this is suppressed (at 1,
        none is).
    score_threshold : float or None
        Boxes whose score is at most this are discarded before suppression
        (None: keep all).

    Returns
    -------
    keep : (K,) int64
        Indices of the kept boxes, best score first. Equal to OpenCV's
        ``cv2.dnn.NMSBoxes`` on the same boxes given as (x, y, w, h), up to
        IoUs within float32 rounding of the threshold (OpenCV compares in
        float32).
    """
    func = "nms"
    boxes = _check_boxes(func, "boxes", boxes)
    scores = _check_scores(func, "scores", scores, len(boxes))
    iou_threshold = _check_iou_threshold(func, iou_threshold)
    order = _candidates(scores, _check_score_threshold(func, score_threshold))
    return _k.greedy_nms(boxes, order, iou_threshold)


def batched_nms(boxes, scores, classes, iou_threshold, score_threshold=None):
    """Non-maximum suppression within each class: boxes of different classes never
    suppress each other.

    Parameters
    ----------
    boxes : (N, 4) array_like
        Boxes as (x1, y1, x2, y2).
    scores : (N,) array_like
        Finite confidence of each box.
    classes : (N,) array_like of int
        Class id of each box (any integers).
    iou_threshold, score_threshold
        As in ``nms``.

    Returns
    -------
    keep : (K,) int64
        Indices of the kept boxes of all classes, best score first (as
        ``cv2.dnn.NMSBoxesBatched`` returns them).
    """
    func = "batched_nms"
    boxes = _check_boxes(func, "boxes", boxes)
    scores = _check_scores(func, "scores", scores, len(boxes))
    classes = _check_classes(func, "classes", classes, len(boxes))
    iou_threshold = _check_iou_threshold(func, iou_threshold)
    order = _candidates(scores, _check_score_threshold(func, score_threshold))
    return _batched_nms(boxes, classes, order, iou_threshold)


def _batched_nms(boxes, classes, order, iou_threshold):
    kept = np.zeros(len(boxes), dtype=bool)
    ranked_classes = classes[order]
    for c in np.unique(ranked_classes):
        kept[_k.greedy_nms(boxes, order[ranked_classes == c], iou_threshold)] = True
    return order[kept[order]]


def soft_nms(boxes, scores, method="gaussian", sigma=0.5, iou_threshold=0.3, score_threshold=0.001):
    """Soft non-maximum suppression (Bodla et al., ICCV 2017).

    Instead of deleting the boxes that overlap a kept box, lower their scores
    by a decay of their IoU with it: take the box of highest (current) score,
    decay the scores of the others, drop those now at or below
    ``score_threshold``, repeat.

    Parameters
    ----------
    boxes : (N, 4) array_like
        Boxes as (x1, y1, x2, y2).
    scores : (N,) array_like
        Finite confidence of each box.
    method : {'gaussian', 'linear'}
        Decay of a score by the IoU ``o`` with the kept box: 'gaussian'
        multiplies by ``exp(-o**2 / sigma)``; 'linear' by ``1 - o`` when
        ``o > iou_threshold`` (unchanged otherwise).
    sigma : float > 0
        Width of the Gaussian decay (the paper's 0.5).
    iou_threshold : float in [0, 1]
        Overlap above which the linear decay applies (unused by 'gaussian').
    score_threshold : float
        Boxes whose (decayed) score falls to this or below are discarded.

    Returns
    -------
    keep : (K,) int64
        Indices of the kept boxes, in the order they were selected (their
        decayed scores never increase along it).
    kept_scores : (K,) float64
        Their scores when selected.
    """
    func = "soft_nms"
    boxes = _check_boxes(func, "boxes", boxes)
    scores = _check_scores(func, "scores", scores, len(boxes))
    check_choice(func, "method", method, ("gaussian", "linear"))
    sigma = check_number(func, "sigma", sigma, low=0, low_open=True)
    iou_threshold = _check_iou_threshold(func, iou_threshold)
    score_threshold = check_number(func, "score_threshold", score_threshold)
    return _k.soft_nms(boxes, scores, method == "gaussian", sigma, iou_threshold, score_threshold)


# ----------------------------------------------------- average precision
def precision_recall_curve(scores, true_positive, num_positives):
    """Precision and recall down a ranked list of detections.

    Parameters
    ----------
    scores : (N,) array_like
        Confidence of each detection; the list is ranked best first (stable).
    true_positive : (N,) array_like of bool (or 0/1)
        Whether each detection matched a ground-truth object.
    num_positives : int >= 1
        Number of ground-truth objects (at least the number of true positives).

    Returns
    -------
    precision, recall : (N,) float64 each
        After the k best detections: ``TP_k / k`` and ``TP_k / num_positives``.
    """
    func = "precision_recall_curve"
    scores, true_positive, num_positives = _check_ranking(func, scores, true_positive, num_positives)
    return _precision_recall(true_positive[np.argsort(-scores, kind="stable")], num_positives)


def average_precision(scores, true_positive, num_positives, interpolation="all"):
    """Average precision of a ranked list of detections (one class).

    Parameters
    ----------
    scores, true_positive, num_positives
        As in ``precision_recall_curve``.
    interpolation : {'all', '11point', '101point'}
        How the precision-recall curve is summarised. In every case the
        precision at recall ``r`` is interpolated as the highest precision
        reached at any recall >= ``r`` (the curve's monotone envelope).

        - 'all': the area under that envelope (PASCAL VOC 2010 onwards).
        - '11point': its mean at recalls 0, 0.1, ..., 1 (VOC 2007).
        - '101point': its mean at recalls 0, 0.01, ..., 1 (COCO).

        At a recall never reached the precision is 0.

    Returns
    -------
    ap : float in [0, 1]
    """
    func = "average_precision"
    scores, true_positive, num_positives = _check_ranking(func, scores, true_positive, num_positives)
    check_choice(func, "interpolation", interpolation, INTERPOLATIONS)
    ranked = true_positive[np.argsort(-scores, kind="stable")]
    return _interpolated_ap(*_precision_recall(ranked, num_positives), interpolation)


def _check_ranking(func, scores, true_positive, num_positives):
    scores = _check_scores(func, "scores", scores, np.size(scores))
    true_positive = _check_flags(func, "true_positive", true_positive, len(scores))
    found = int(true_positive.sum())
    num_positives = check_int(func, "num_positives", num_positives, low=max(1, found))
    return scores, true_positive, num_positives


def _precision_recall(ranked_tp, num_positives):
    """Precision and recall after each detection of a ranked (N,) bool list."""
    tp = np.cumsum(ranked_tp, dtype=np.float64)
    return tp / np.arange(1, len(tp) + 1), tp / num_positives


def _interpolated_ap(precision, recall, interpolation):
    """AP of a precision-recall curve (recall non-decreasing) by ``interpolation``."""
    envelope = np.maximum.accumulate(precision[::-1])[::-1]  # best precision at recall >= r
    if interpolation == "all":
        return float(np.sum(np.diff(recall, prepend=0.0) * envelope))
    points = np.linspace(0.0, 1.0, 11 if interpolation == "11point" else 101)
    first = np.searchsorted(recall, points, side="left")  # first detection reaching each recall
    return float(np.mean(np.append(envelope, 0.0)[first]))


# ------------------------------------------------------------------ mAP
@dataclass(frozen=True, eq=False)
class DetectionScores:
    """Average precision of a detector over a set of images.

    Attributes
    ----------
    map : float
        Mean of ``ap`` over classes and IoU thresholds (COCO's AP, "AP@[.5:.95]"
        with the default thresholds); NaN when no class has a ground truth.
    map50, map75 : float
        Mean over classes at IoU 0.5 and 0.75 (NaN if not among the thresholds).
    ap : (K, T) float64
        AP of each class at each IoU threshold; a row of NaN for a class with no
        ground truth that counts (only detections, or only ignored objects).
    recall : (K, T) float64
        Recall reached with all (at most ``max_detections`` per image) detections.
    classes : (K,) int64
        Class ids, sorted: every id seen in the detections or the ground truth.
    iou_thresholds : (T,) float64
    """

    map: float
    map50: float
    map75: float
    ap: np.ndarray
    recall: np.ndarray
    classes: np.ndarray
    iou_thresholds: np.ndarray

    @property
    def class_ap(self):
        """(K,) AP of each class averaged over the IoU thresholds (NaN as in ``ap``)."""
        return self.ap.mean(axis=1)


def mean_average_precision(detections, ground_truths, iou_thresholds=None, interpolation="101point",
                           max_detections=100):
    """COCO-style mean average precision of detections against ground truth.

    Per class and IoU threshold: in each image, the detections (best score
    first, at most ``max_detections`` per image and class) are matched
    greedily to the ground truths as COCO does (see ``Notes``); the detections
    of all images are then ranked by score into one precision-recall curve,
    summarised by ``interpolation``. The mean runs over the thresholds, then
    over the classes that have ground truth. With the defaults this is
    pycocotools' ``COCOeval`` AP (``stats[0]``; ``map50`` is ``stats[1]``).

    Parameters
    ----------
    detections : sequence of mappings, one per image
        Each with exactly the keys ``'boxes'`` (n, 4) as (x1, y1, x2, y2),
        ``'scores'`` (n,) finite floats and ``'classes'`` (n,) ints.
    ground_truths : sequence of mappings, one per image (same length and order)
        Each with the keys ``'boxes'`` (m, 4) and ``'classes'`` (m,), and
        optionally ``'iscrowd'`` (m,) bool and ``'ignore'`` (m,) bool.
        An ``ignore`` object neither counts as a positive nor makes a
        detection on it a false positive (COCO's treatment of objects outside
        the evaluated area range). An ``iscrowd`` region is ignored the same
        way, its IoU with a detection is measured over the detection's area
        alone, and any number of detections can fall on it.
    iou_thresholds : (T,) array_like of float in [0, 1], or None
        Match thresholds; None means COCO's 0.50:0.05:0.95.
    interpolation : {'101point', '11point', 'all'}
        Summary of each precision-recall curve (see ``average_precision``).
    max_detections : int >= 1 or None
        Detections kept per image and class, best first (None: all).

    Returns
    -------
    DetectionScores
        ``map``, ``map50``, ``map75``, and per class and threshold ``ap`` and ``recall``.

    Notes
    -----
    COCO's matching, per image, class and threshold: each detection in turn
    (best score first) takes, among the ground truths not yet taken whose IoU
    with it is at least the threshold, the one of highest IoU, preferring
    any regular object to an ignored one. It is a true positive if that object
    is regular; it is left out of the ranking if that object is ignored; it is
    a false positive if it took nothing.
    """
    func = "mean_average_precision"
    images = _check_images(func, detections, ground_truths)
    thresholds = (COCO_IOU_THRESHOLDS.copy() if iou_thresholds is None else
                  np.array([_check_iou_threshold(func, t, f"iou_thresholds[{i}]")
                            for i, t in enumerate(np.atleast_1d(iou_thresholds))]))
    if thresholds.size == 0:
        raise ValueError(f"{func}: iou_thresholds must not be empty, got {iou_thresholds!r}")
    check_choice(func, "interpolation", interpolation, INTERPOLATIONS)
    if max_detections is not None:
        max_detections = check_int(func, "max_detections", max_detections, low=1)
    per_class = _split_by_class(images)
    classes = np.array(sorted(per_class), dtype=np.int64)
    ap = np.full((len(classes), len(thresholds)), np.nan)
    recall = np.full_like(ap, np.nan)
    for k, c in enumerate(classes):
        matches = [_match_image(*image, thresholds, max_detections) for image in per_class[c]]
        ap[k], recall[k] = _class_ap(matches, thresholds, interpolation)
    return DetectionScores(_nanmean(ap), _nanmean(_column(ap, thresholds, 0.5)),
                           _nanmean(_column(ap, thresholds, 0.75)), ap, recall, classes, thresholds)


def _check_images(func, detections, ground_truths):
    """Clean per-image (detections, ground truths) dicts of arrays; ``ignore`` merges iscrowd."""
    for name, value in (("detections", detections), ("ground_truths", ground_truths)):
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise TypeError(f"{func}: {name} must be a sequence of mappings (one per image), "
                            f"got {type(value).__name__}")
    if len(detections) != len(ground_truths):
        raise ValueError(f"{func}: detections and ground_truths must list the same images, "
                         f"got {len(detections)} and {len(ground_truths)} entries")
    images = []
    for i, (det, gt) in enumerate(zip(detections, ground_truths)):
        det = _check_keys(func, f"detections[{i}]", det, {"boxes", "scores", "classes"}, set())
        gt = _check_keys(func, f"ground_truths[{i}]", gt, {"boxes", "classes"}, {"iscrowd", "ignore"})
        d_boxes = _check_boxes(func, f"detections[{i}]['boxes']", det["boxes"])
        g_boxes = _check_boxes(func, f"ground_truths[{i}]['boxes']", gt["boxes"])
        n, m = len(d_boxes), len(g_boxes)
        crowd = _check_flags(func, f"ground_truths[{i}]['iscrowd']", gt.get("iscrowd", np.zeros(m, bool)), m)
        ignore = _check_flags(func, f"ground_truths[{i}]['ignore']", gt.get("ignore", np.zeros(m, bool)), m)
        images.append((
            {"boxes": d_boxes, "scores": _check_scores(func, f"detections[{i}]['scores']", det["scores"], n),
             "classes": _check_classes(func, f"detections[{i}]['classes']", det["classes"], n)},
            {"boxes": g_boxes, "classes": _check_classes(func, f"ground_truths[{i}]['classes']", gt["classes"], m),
             "crowd": crowd, "ignore": ignore | crowd},
        ))
    return images


def _check_keys(func, name, value, required, optional):
    if not isinstance(value, Mapping):
        raise TypeError(f"{func}: {name} must be a mapping, got {type(value).__name__}")
    keys = set(value)
    if not required <= keys <= required | optional:
        wanted = ", ".join(map(repr, sorted(required))) + (
            f" (optionally {', '.join(map(repr, sorted(optional)))})" if optional else "")
        raise ValueError(f"{func}: {name} must have the keys {wanted}, got {sorted(map(str, keys))}")
    return value


def _split_by_class(images):
    """{class id: [(detected boxes, scores, true boxes, crowd, ignore) of each image where
    the class occurs, in image order]}."""
    per_class = {}
    for det, gt in images:
        for c in np.union1d(det["classes"], gt["classes"]):
            d, g = det["classes"] == c, gt["classes"] == c
            per_class.setdefault(int(c), []).append(
                (det["boxes"][d], det["scores"][d], gt["boxes"][g], gt["crowd"][g], gt["ignore"][g]))
    return per_class


def _match_image(det_boxes, scores, gt_boxes, crowd, ignore, thresholds, max_detections):
    """COCO's matching in one image and class: (scores, matched (T, D), ignored (T, D),
    number of regular ground truths) of its best ``max_detections`` detections."""
    order = np.argsort(-scores, kind="stable")[:max_detections]
    g_order = np.argsort(ignore, kind="stable")  # ignored ground truths last
    crowd, ignore = crowd[g_order], ignore[g_order]
    matched, ignored = _k.match_detections(_box_iou(det_boxes[order], gt_boxes[g_order], crowd), ignore, crowd,
                                           thresholds)
    return scores[order], matched, ignored, int((~ignore).sum())


def detection_pr_curves(detections, ground_truths, iou_threshold=0.5, max_detections=100):
    """Each class's precision-recall curve at one IoU threshold, with the matching of
    ``mean_average_precision``.

    Parameters
    ----------
    detections, ground_truths, max_detections
        As in ``mean_average_precision``.
    iou_threshold : float in [0, 1]

    Returns
    -------
    curves : dict
        ``{class id: (precision, recall)}``, two (D,) float64 arrays down the class's
        ranked detections (ignored ones left out), for every class with a regular
        ground truth. Its area (``average_precision``'s 'all') is that class's AP.
    """
    func = "detection_pr_curves"
    images = _check_images(func, detections, ground_truths)
    thresholds = np.array([_check_iou_threshold(func, iou_threshold)])
    if max_detections is not None:
        max_detections = check_int(func, "max_detections", max_detections, low=1)
    curves = {}
    for c, class_images in sorted(_split_by_class(images).items()):
        matches = [_match_image(*image, thresholds, max_detections) for image in class_images]
        class_curves = _class_curves(matches, thresholds)
        if class_curves is not None:
            curves[c] = class_curves[0]
    return curves


def _class_curves(matches, thresholds):
    """[(precision, recall)] at each threshold of one class from its images' matches;
    None without a regular ground truth."""
    scores, matched, ignored, positives = zip(*matches)
    positives = sum(positives)
    if positives == 0:
        return None
    rank = np.argsort(-np.concatenate(scores), kind="stable")  # ties: image order, then score order
    matched, ignored = np.concatenate(matched, axis=1)[:, rank], np.concatenate(ignored, axis=1)[:, rank]
    return [_precision_recall(matched[t][~ignored[t]], positives)  # ignored: left out
            for t in range(len(thresholds))]


def _class_ap(matches, thresholds, interpolation):
    """(ap, recall) at each threshold of one class from its images' matches; NaN without
    a regular ground truth."""
    curves = _class_curves(matches, thresholds)
    if curves is None:
        return np.nan, np.nan
    ap = np.array([_interpolated_ap(precision, recall, interpolation) for precision, recall in curves])
    return ap, np.array([recall[-1] if recall.size else 0.0 for _, recall in curves])


def _column(ap, thresholds, threshold):
    hit = np.flatnonzero(np.isclose(thresholds, threshold, rtol=0, atol=1e-12))
    return ap[:, hit[0]] if hit.size else np.full(len(ap), np.nan)


def _nanmean(values):
    """Mean of the non-NaN values; NaN (without a warning) when there are none."""
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")

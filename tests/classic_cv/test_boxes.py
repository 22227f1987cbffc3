"""Boxes: kernels equal their twins; IoU equals pycocotools', NMS keeps OpenCV's indices,
AP follows the VOC devkit's definitions, mAP equals COCOeval's; bad input is refused."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import classic_cv as cv
from benchmarks.cases.cv_metrics import cocoeval, synthetic_detections, xywh
from classic_cv import boxes
from classic_cv._kernels import boxes as kern
from classic_cv.naive import boxes as naive


# --------------------------------------------------------------- data
def random_boxes(rng, n, grid=None, min_side=0.0):
    """(n, 4) xyxy boxes in a 100x100 field; integer corners on a ``grid`` if given
    (exact IoUs, so ties with a threshold happen)."""
    if grid:
        xy = rng.integers(0, grid, (n, 2))
        wh = rng.integers(max(1, int(min_side)) if min_side else 0, grid // 2 + 1, (n, 2))
        return np.hstack([xy, xy + wh]).astype(np.float64)
    xy = rng.random((n, 2)) * 100
    return np.hstack([xy, xy + min_side + rng.random((n, 2)) * 40])


# ---------------------------------------------------- kernels vs twins
@settings(max_examples=25)
@given(n=st.integers(0, 25), m=st.integers(0, 25), grid=st.sampled_from([None, 6, 20]),
       seed=st.integers(0, 2**16))
def test_box_iou_kernel_equals_naive_twin(n, m, grid, seed):
    rng = np.random.default_rng(seed)
    b1, b2 = random_boxes(rng, n, grid), random_boxes(rng, m, grid)
    crowd = rng.random(m) < 0.3
    out = np.empty((n, m))
    kern.box_iou(b1, b2, crowd, out)
    np.testing.assert_array_equal(out, naive.box_iou(b1, b2, crowd))


@settings(max_examples=25)
@given(n=st.integers(0, 40), grid=st.sampled_from([None, 6, 20]), threshold=st.sampled_from([0.0, 0.3, 0.5, 1.0]),
       seed=st.integers(0, 2**16))
def test_greedy_nms_kernel_equals_naive_twin(n, grid, threshold, seed):
    rng = np.random.default_rng(seed)
    b = random_boxes(rng, n, grid)
    order = rng.permutation(n)
    np.testing.assert_array_equal(kern.greedy_nms(b, order, threshold), naive.greedy_nms(b, order, threshold))


@settings(max_examples=25)
@given(n=st.integers(0, 30), grid=st.sampled_from([None, 8]), gaussian=st.booleans(),
       sigma=st.sampled_from([0.1, 0.5, 2.0]), threshold=st.sampled_from([0.0, 0.3, 0.7]),
       seed=st.integers(0, 2**16))
def test_soft_nms_kernel_equals_naive_twin(n, grid, gaussian, sigma, threshold, seed):
    rng = np.random.default_rng(seed)
    b = random_boxes(rng, n, grid)
    scores = np.round(rng.random(n) * 8) / 8  # ties
    keep, kept = kern.soft_nms(b, scores, gaussian, sigma, threshold, 0.05)
    ref_keep, ref_kept = naive.soft_nms(b, scores, gaussian, sigma, threshold, 0.05)
    np.testing.assert_array_equal(keep, ref_keep)
    np.testing.assert_allclose(kept, ref_kept, rtol=1e-12, atol=0)


@settings(max_examples=30)
@given(d=st.integers(0, 12), g=st.integers(0, 8), seed=st.integers(0, 2**16))
def test_matching_kernel_equals_naive_twin(d, g, seed):
    rng = np.random.default_rng(seed)
    ious = np.round(rng.random((d, g)) * 10) / 10  # equal IoUs and IoUs equal to a threshold
    ignore = np.sort(rng.random(g) < 0.3)  # ignored ground truths last, as the callers sort them
    crowd = ignore & (rng.random(g) < 0.5)
    thresholds = np.array([0.0, 0.5, 0.7, 1.0])
    for ours, ref in zip(kern.match_detections(ious, ignore, crowd, thresholds),
                         naive.match_detections(ious, ignore, crowd, thresholds)):
        np.testing.assert_array_equal(ours, ref)


# ------------------------------------------------------ IoU references
def test_box_iou_equals_pycocotools(rng):
    mask = pytest.importorskip("pycocotools.mask")
    b1, b2 = random_boxes(rng, 300), random_boxes(rng, 200)
    b2[:20] = b1[:20]  # identical pairs
    b2[20:30, 2] = b2[20:30, 0]  # zero-width boxes
    np.testing.assert_allclose(cv.box_iou(b1, b2), mask.iou(xywh(b1), xywh(b2), np.zeros(200)), rtol=0, atol=1e-12)
    # Crowd regions (used by mean_average_precision): intersection over the detection's area.
    crowd = rng.random(200) < 0.5
    np.testing.assert_allclose(boxes._box_iou(b1, b2, crowd), mask.iou(xywh(b1), xywh(b2), crowd.astype(np.uint8)),
                               rtol=0, atol=1e-12)


def test_box_iou_small_cases():
    a = [[0, 0, 10, 10]]
    b = [[0, 0, 10, 5], [5, 5, 15, 15], [10, 0, 20, 10], [3, 3, 3, 8]]  # half, 25/175, touching, empty
    np.testing.assert_allclose(cv.box_iou(a, b), [[0.5, 25 / 175, 0.0, 0.0]])
    assert cv.box_iou(np.empty((0, 4)), b).shape == (0, 4)
    assert cv.box_iou(a, []).shape == (1, 0)


def test_box_convert(rng):
    corners = random_boxes(rng, 50)
    sizes = corners[:, 2:] - corners[:, :2]
    expected = {"xyxy": corners, "xywh": np.hstack([corners[:, :2], sizes]),
                "cxcywh": np.hstack([(corners[:, :2] + corners[:, 2:]) / 2, sizes])}
    for in_fmt, source in expected.items():
        for out_fmt, ref in expected.items():
            np.testing.assert_allclose(cv.box_convert(source, in_fmt, out_fmt), ref, rtol=0, atol=1e-12,
                                       err_msg=f"{in_fmt} -> {out_fmt}")
    same = cv.box_convert(corners, "xyxy", "xyxy")
    assert same is not corners and np.array_equal(same, corners)
    assert cv.box_convert([], "xywh", "cxcywh").shape == (0, 4)


# ------------------------------------------------------ NMS references
def _near_threshold(b, threshold):
    """Whether an IoU lies within float32 rounding of the threshold (OpenCV compares in
    float32, we in float64; only there can the two differ)."""
    iou = cv.box_iou(b, b)[~np.eye(len(b), dtype=bool)]
    iou = iou[iou > 0]  # disjoint boxes: exactly 0 on both sides
    return bool((np.abs(iou - threshold) < 1e-6).any())


@settings(max_examples=30)
@given(n=st.integers(0, 80), threshold=st.floats(0.0, 1.0), tied_scores=st.booleans(),
       seed=st.integers(0, 2**16))
def test_nms_keeps_opencv_indices(cv2, n, threshold, tied_scores, seed):
    rng = np.random.default_rng(seed)
    b = random_boxes(rng, n, min_side=0.5)
    scores = rng.random(n).astype(np.float32)  # OpenCV holds scores as float32
    if tied_scores:
        scores = np.round(scores * 6) / np.float32(6) + np.float32(0.01)
    assume(not _near_threshold(b, threshold))
    ref = cv2.dnn.NMSBoxes(xywh(b).tolist(), scores.tolist(), 0.0, threshold)
    np.testing.assert_array_equal(cv.nms(b, scores, threshold), np.asarray(ref, dtype=np.int64).ravel())
    ref = cv2.dnn.NMSBoxes(xywh(b).tolist(), scores.tolist(), 0.5, threshold)
    np.testing.assert_array_equal(cv.nms(b, scores, threshold, score_threshold=0.5),
                                  np.asarray(ref, dtype=np.int64).ravel())


@settings(max_examples=30)
@given(n=st.integers(0, 60), threshold=st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), seed=st.integers(0, 2**16))
def test_nms_tie_conventions_equal_opencv(cv2, n, threshold, seed):
    """Integer boxes make IoUs exactly equal to the threshold (kept) and scores exactly
    equal to score_threshold (dropped), as in OpenCV."""
    rng = np.random.default_rng(seed)
    b = random_boxes(rng, n, grid=10, min_side=1)
    scores = (rng.integers(1, 5, n) / 4).astype(np.float32)
    for score_threshold in (0.0, 0.5):
        ref = cv2.dnn.NMSBoxes(xywh(b).tolist(), scores.tolist(), score_threshold, threshold)
        np.testing.assert_array_equal(cv.nms(b, scores, threshold, score_threshold=score_threshold),
                                      np.asarray(ref, dtype=np.int64).ravel())


def test_nms_threshold_conventions():
    b = [[0, 0, 10, 10], [0, 0, 10, 5]]  # IoU exactly 0.5
    np.testing.assert_array_equal(cv.nms(b, [0.9, 0.8], 0.5), [0, 1])  # equal IoU: kept
    np.testing.assert_array_equal(cv.nms(b, [0.9, 0.8], 0.49), [0])
    np.testing.assert_array_equal(cv.nms(b, [0.8, 0.9], 0.49), [1])
    np.testing.assert_array_equal(cv.nms(b, [0.9, 0.8], 0.5, score_threshold=0.8), [0])  # equal score: dropped
    np.testing.assert_array_equal(cv.nms(b, [0.5, 0.5], 0.4), [0])  # equal scores: index order
    assert cv.nms(np.empty((0, 4)), [], 0.5).shape == (0,)


@settings(max_examples=30)
@given(n=st.integers(0, 80), threshold=st.floats(0.0, 1.0), n_classes=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_batched_nms_keeps_opencv_indices(cv2, n, threshold, n_classes, seed):
    rng = np.random.default_rng(seed)
    b = random_boxes(rng, n, min_side=0.5)
    scores = rng.random(n).astype(np.float32)
    classes = rng.integers(0, n_classes, n)
    assume(not _near_threshold(b, threshold))
    ref = cv2.dnn.NMSBoxesBatched(xywh(b).tolist(), scores.tolist(), classes.tolist(), 0.0, threshold)
    np.testing.assert_array_equal(cv.batched_nms(b, scores, classes, threshold),
                                  np.asarray(ref, dtype=np.int64).ravel())


def test_batched_nms_is_nms_per_class(rng):
    b = random_boxes(rng, 200)
    scores, classes = rng.random(200), rng.integers(-2, 3, 200)  # any integer ids
    keep = cv.batched_nms(b, scores, classes, 0.4)
    for c in np.unique(classes):
        members = np.flatnonzero(classes == c)
        np.testing.assert_array_equal(keep[classes[keep] == c], members[cv.nms(b[members], scores[members], 0.4)])
    assert (np.diff(scores[keep]) <= 0).all()


def test_soft_nms_behaviour(rng):
    b = np.array([[0, 0, 10, 10], [0, 0, 10, 8], [50, 50, 60, 60]], dtype=float)
    scores = np.array([0.9, 0.8, 0.7])
    keep, kept = cv.soft_nms(b, scores, method="linear", iou_threshold=0.3)
    np.testing.assert_array_equal(keep, [0, 2, 1])
    np.testing.assert_allclose(kept, [0.9, 0.7, 0.8 * (1 - 0.8)])
    keep, kept = cv.soft_nms(b, scores, sigma=0.5)
    np.testing.assert_allclose(kept, [0.9, 0.7, 0.8 * np.exp(-0.64 / 0.5)])
    # A tiny sigma or a hard linear threshold of 0 with total overlap is plain NMS.
    b, scores = random_boxes(rng, 100), rng.random(100)
    keep, _ = cv.soft_nms(np.vstack([b, b]), np.concatenate([scores, scores * 0.5]), method="linear",
                          iou_threshold=0.0, score_threshold=0.0)
    assert set(keep) >= set(cv.nms(b, scores, 0.0))


# ------------------------------------------------------ AP and mAP
def voc_ap(scores, true_positive, num_positives, eleven_points):
    """The VOC devkit's AP, written out directly: precision/recall down the ranking, then
    either the mean over t = 0, 0.1, ..., 1 of the best precision at recall >= t (VOC2007)
    or the area under the precision envelope summed where recall changes (VOC2010+)."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.cumsum(np.asarray(true_positive, dtype=float)[order])
    fp = np.cumsum(1.0 - np.asarray(true_positive, dtype=float)[order])
    rec, prec = tp / num_positives, tp / np.maximum(tp + fp, np.finfo(float).eps)
    if eleven_points:
        total = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            total += (prec[rec >= t].max() if (rec >= t).any() else 0.0) / 11
        return total
    mrec, mpre = np.concatenate([[0.0], rec, [1.0]]), np.concatenate([[0.0], prec, [0.0]])
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    changes = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[changes + 1] - mrec[changes]) * mpre[changes + 1]))


@settings(max_examples=40)
@given(n=st.integers(0, 40), missed=st.integers(0, 5), seed=st.integers(0, 2**16))
def test_average_precision_equals_voc_definitions(n, missed, seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random(n) * 10) / 10  # tied scores
    tp = rng.random(n) < rng.random()
    positives = max(1, int(tp.sum()) + missed)
    assert cv.average_precision(scores, tp, positives, "11point") == pytest.approx(
        voc_ap(scores, tp, positives, True), abs=1e-12)
    assert cv.average_precision(scores, tp, positives, "all") == pytest.approx(
        voc_ap(scores, tp, positives, False), abs=1e-12)


def test_average_precision_small_cases():
    assert cv.average_precision([0.9, 0.8, 0.7], [1, 1, 1], 3) == 1.0
    assert cv.average_precision([0.9, 0.8], [0, 0], 2) == 0.0
    # Ranked T F T with 4 positives: area 1/4 * 1 + 1/4 * 2/3.
    assert cv.average_precision([0.9, 0.8, 0.7], [1, 0, 1], 4) == pytest.approx(0.25 + 0.25 * 2 / 3)
    # 101 points: recall 0..0.25 at precision 1 (26 points), 0.26..0.5 at 2/3 (25 points).
    assert cv.average_precision([0.9, 0.8, 0.7], [1, 0, 1], 4, "101point") == pytest.approx((26 + 25 * 2 / 3) / 101)
    precision, recall = cv.precision_recall_curve([0.7, 0.9, 0.8], [True, True, False], 4)
    np.testing.assert_allclose(precision, [1, 0.5, 2 / 3])
    np.testing.assert_allclose(recall, [0.25, 0.25, 0.5])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_map_equals_cocoeval(seed):
    pytest.importorskip("pycocotools")
    detections, ground_truths = synthetic_detections(np.random.default_rng(seed))
    stats = cocoeval(detections, ground_truths).stats
    ours = cv.mean_average_precision(detections, ground_truths)
    assert 0.3 < ours.map < 0.95  # a meaningful detector, neither hopeless nor perfect
    assert ours.map == pytest.approx(stats[0], abs=1e-10)
    assert ours.map50 == pytest.approx(stats[1], abs=1e-10)
    assert ours.map75 == pytest.approx(stats[2], abs=1e-10)


def test_map_with_few_detections_per_image_equals_cocoeval():
    pytest.importorskip("pycocotools")
    detections, ground_truths = synthetic_detections(np.random.default_rng(3), n_images=30)
    evaluator = cocoeval(detections, ground_truths, max_dets=2)
    ours = cv.mean_average_precision(detections, ground_truths, max_detections=2)
    # COCO's precision (T, R, K, area, maxDets), -1 where a class has no ground truth;
    # stats[0] would read the column of 100 detections, so average it as summarize does.
    precision = evaluator.eval["precision"][:, :, :, 0, 2]
    assert ours.map == pytest.approx(precision[precision > -1].mean(), abs=1e-10)
    coco_ap = precision.mean(axis=1).T
    np.testing.assert_allclose(ours.ap, coco_ap, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.recall, evaluator.eval["recall"][:, :, 0, 2].T, rtol=0, atol=1e-12)


def test_map_small_cases():
    gt = [{"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "classes": [0, 1]}]
    perfect = [{"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "scores": [0.9, 0.8], "classes": [0, 1]}]
    result = cv.mean_average_precision(perfect, gt)
    assert result.map == 1.0 and result.map50 == 1.0
    np.testing.assert_array_equal(result.classes, [0, 1])
    empty = [{"boxes": [], "scores": [], "classes": []}]
    assert cv.mean_average_precision(empty, gt).map == 0.0
    # A class seen only in detections has no AP and does not enter the mean.
    extra = [{"boxes": [[0, 0, 10, 10], [50, 50, 60, 60]], "scores": [0.9, 0.95], "classes": [0, 7]}]
    result = cv.mean_average_precision(extra, [{"boxes": [[0, 0, 10, 10]], "classes": [0]}])
    assert result.map == 1.0 and np.isnan(result.class_ap[1])
    # One threshold of VOC flavour: a box at IoU 0.5 matches at 0.5, not at 0.6.
    half = [{"boxes": [[0, 0, 10, 5]], "scores": [1.0], "classes": [0]}]
    one = [{"boxes": [[0, 0, 10, 10]], "classes": [0]}]
    assert cv.mean_average_precision(half, one, iou_thresholds=[0.5], interpolation="11point").map == 1.0
    assert cv.mean_average_precision(half, one, iou_thresholds=[0.6], interpolation="all").map == 0.0
    assert np.isnan(cv.mean_average_precision(half, one, iou_thresholds=[0.6]).map75)


@pytest.mark.parametrize("threshold", [0.5, 0.75])
def test_pr_curves_are_the_curves_under_each_class_ap(threshold):
    detections, ground_truths = synthetic_detections(np.random.default_rng(4), n_images=25)
    curves = cv.detection_pr_curves(detections, ground_truths, iou_threshold=threshold)
    scores = cv.mean_average_precision(detections, ground_truths, iou_thresholds=[threshold], interpolation="all")
    with_truth = scores.classes[~np.isnan(scores.ap[:, 0])]
    assert sorted(curves) == with_truth.tolist() and len(curves) > 1
    for k, c in enumerate(scores.classes):
        if c in curves:
            precision, recall = curves[c]
            assert np.all(np.diff(recall) >= 0) and np.all((precision >= 0) & (precision <= 1))
            # The area under the curve's monotone envelope is the class's all-point AP.
            envelope = np.maximum.accumulate(precision[::-1])[::-1]
            assert np.sum(np.diff(recall, prepend=0.0) * envelope) == pytest.approx(scores.ap[k, 0], abs=1e-12)
            assert recall[-1] == pytest.approx(scores.recall[k, 0], abs=1e-12)


def test_pr_curves_small_case():
    gt = [{"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "classes": [3, 3]}]
    det = [{"boxes": [[0, 0, 10, 10], [50, 50, 60, 60], [20, 20, 30, 30]], "scores": [0.9, 0.8, 0.7],
            "classes": [3, 3, 3]}]
    precision, recall = cv.detection_pr_curves(det, gt)[3]
    np.testing.assert_allclose(precision, [1, 0.5, 2 / 3])
    np.testing.assert_allclose(recall, [0.5, 0.5, 1])
    with pytest.raises(ValueError, match="detection_pr_curves: iou_threshold"):
        cv.detection_pr_curves(det, gt, iou_threshold=1.5)


def test_map_ignored_objects_change_nothing(rng):
    detections, ground_truths = synthetic_detections(rng, n_images=20)
    for gt in ground_truths:
        gt.pop("iscrowd")
    before = cv.mean_average_precision(detections, ground_truths)
    # Add to each image an ignored object with a detection exactly on it, of any score.
    for det, gt in zip(detections, ground_truths):
        box = random_boxes(rng, 1, min_side=5) + 500  # away from everything else
        gt.update(boxes=np.vstack([gt["boxes"], box]), classes=np.append(gt["classes"], 0),
                  ignore=np.append(np.zeros(len(gt["classes"]), bool), True))
        det.update(boxes=np.vstack([det["boxes"], box]), scores=np.append(det["scores"], rng.random()),
                   classes=np.append(det["classes"], 0))
    after = cv.mean_average_precision(detections, ground_truths)
    np.testing.assert_allclose(after.ap, before.ap, rtol=0, atol=1e-15)


# ------------------------------------------------------------ bad input
B = np.array([[0.0, 0, 10, 10], [5, 5, 15, 15]])
S = np.array([0.9, 0.8])


def _refused(call, *args, match, error=ValueError, **kwargs):
    with pytest.raises(error, match=match):
        call(*args, **kwargs)


def test_bad_boxes_are_refused():
    _refused(cv.box_iou, [[10, 0, 0, 10]], B, match=r"box_iou: boxes1 must have x2 >= x1 .* row 0")
    _refused(cv.box_iou, B, [[0, 10, 10, 0]], match=r"box_iou: boxes2 must have x2 >= x1")
    _refused(cv.box_iou, B[:, :3], B, match=r"box_iou: boxes1 must have shape \(N, 4\)")
    _refused(cv.box_iou, B[0], B, match=r"box_iou: boxes1 must be 2-D")
    _refused(cv.box_iou, [[0, 0, np.nan, 1]], B, match="box_iou: boxes1 must be finite")
    _refused(cv.box_iou, "boxes", B, match="box_iou: boxes1", error=TypeError)
    _refused(cv.nms, B, S[:1], 0.5, match=r"nms: scores must have one entry per box \(2\), got 1")
    _refused(cv.nms, B, [0.9, np.nan], 0.5, match="nms: scores must be finite")
    _refused(cv.nms, B, [[0.9, 0.8]], 0.5, match="nms: scores must be 1-D")


@pytest.mark.parametrize("threshold", [-0.1, 1.5, np.nan, np.inf])
def test_iou_thresholds_outside_unit_interval_are_refused(threshold):
    _refused(cv.nms, B, S, threshold, match=r"nms: iou_threshold must be in \[0, 1\]")
    _refused(cv.batched_nms, B, S, [0, 1], threshold, match=r"batched_nms: iou_threshold must be in \[0, 1\]")
    _refused(cv.soft_nms, B, S, iou_threshold=threshold, match=r"soft_nms: iou_threshold must be in \[0, 1\]")
    gt = [{"boxes": B, "classes": [0, 1]}]
    det = [{"boxes": B, "scores": S, "classes": [0, 1]}]
    _refused(cv.mean_average_precision, det, gt, iou_thresholds=[0.5, threshold],
             match=r"mean_average_precision: iou_thresholds\[1\] must be in \[0, 1\]")


def test_bad_box_formats_are_refused():
    _refused(cv.box_convert, B, "xywh", "yxyx", match="box_convert: out_fmt must be one of 'xyxy', 'xywh', 'cxcywh'")
    _refused(cv.box_convert, [[0, 0, -1, 2]], "xywh", "xyxy",
             match=r"box_convert: boxes must have w >= 0 and h >= 0 in each \(x, y, w, h\) row, got \[0.0, 0.0, -1.0")
    _refused(cv.box_convert, [[5, 5, 2, -1]], "cxcywh", "xyxy", match=r"w >= 0 and h >= 0 in each \(cx, cy, w, h\)")
    _refused(cv.box_convert, B[:, :2], "xyxy", "xywh", match=r"boxes must have shape \(N, 4\) as \(x1, y1, x2, y2\)")


def test_bad_nms_arguments_are_refused():
    _refused(cv.nms, B, S, 0.5, score_threshold=np.nan, match="nms: score_threshold must be finite")
    _refused(cv.nms, B, S, True, match="nms: iou_threshold must be a real number", error=TypeError)
    _refused(cv.batched_nms, B, S, [0.0, 1.0], 0.5, match="batched_nms: classes must hold integers", error=TypeError)
    _refused(cv.batched_nms, B, S, [0], 0.5, match="batched_nms: classes must have one entry per box")
    _refused(cv.soft_nms, B, S, method="hard", match="soft_nms: method must be one of")
    _refused(cv.soft_nms, B, S, sigma=0, match="soft_nms: sigma must be > 0")
    _refused(cv.soft_nms, B, S, score_threshold=None, match="soft_nms: score_threshold", error=TypeError)


def test_bad_ranking_is_refused():
    ap, func = cv.average_precision, "average_precision"
    _refused(ap, [0.9, 0.8], [1, 1], 1, match=f"{func}: num_positives must be an integer >= 2")
    _refused(ap, [0.9, 0.8], [1, 2], 3, match=f"{func}: true_positive must hold booleans or 0/1")
    _refused(ap, [0.9, 0.8], [1], 3, match=f"{func}: true_positive must have one entry")
    _refused(ap, [0.9, np.nan], [1, 0], 3, match=f"{func}: scores must be finite")
    _refused(ap, [0.9], [1], 0, match=f"{func}: num_positives must be an integer >= 1")
    _refused(ap, [0.9], [1], 1, interpolation="voc", match=f"{func}: interpolation must be one of")
    _refused(cv.precision_recall_curve, [0.9], [0.5], 1, error=TypeError,
             match="precision_recall_curve: true_positive must hold integers")


def test_bad_map_input_is_refused():
    gt = [{"boxes": B, "classes": [0, 1]}]
    det = [{"boxes": B, "scores": S, "classes": [0, 1]}]
    func = "mean_average_precision"
    _refused(cv.mean_average_precision, det, gt * 2,
             match=f"{func}: detections and ground_truths must list the same images")
    _refused(cv.mean_average_precision, det[0], gt, match=f"{func}: detections must be a sequence", error=TypeError)
    _refused(cv.mean_average_precision, [B], gt, match=rf"{func}: detections\[0\] must be a mapping", error=TypeError)
    _refused(cv.mean_average_precision, [{"boxes": B, "scores": S, "labels": [0, 1]}], gt,
             match=rf"{func}: detections\[0\] must have the keys 'boxes', 'classes', 'scores'")
    _refused(cv.mean_average_precision, det, [{"boxes": B, "classes": [0, 1], "iscrowded": [0, 0]}],
             match=rf"{func}: ground_truths\[0\] must have the keys .*optionally 'ignore', 'iscrowd'")
    _refused(cv.mean_average_precision, det, [{"boxes": B[:, ::-1], "classes": [0, 1]}],
             match=rf"{func}: ground_truths\[0\]\['boxes'\] must have x2 >= x1")
    _refused(cv.mean_average_precision, [{"boxes": B, "scores": [0.9, np.nan], "classes": [0, 1]}], gt,
             match=rf"{func}: detections\[0\]\['scores'\] must be finite")
    _refused(cv.mean_average_precision, det, [{"boxes": B, "classes": [0, 1], "iscrowd": [0, 2]}],
             match=rf"{func}: ground_truths\[0\]\['iscrowd'\] must hold booleans or 0/1")
    _refused(cv.mean_average_precision, det, gt, iou_thresholds=[],
             match=f"{func}: iou_thresholds must not be empty")
    _refused(cv.mean_average_precision, det, gt, max_detections=0,
             match=f"{func}: max_detections must be an integer >= 1")
    _refused(cv.mean_average_precision, det, gt, interpolation="11", match=f"{func}: interpolation must be one of")


@pytest.mark.parametrize("call, scans", [
    (lambda: cv.nms(B, S, 0.5), 2),
    (lambda: cv.batched_nms(B, S, [0, 1], 0.5), 2),
    (lambda: cv.mean_average_precision([{"boxes": B, "scores": S, "classes": [0, 1]}],
                                       [{"boxes": B, "classes": [0, 1]}]), 3),
], ids=["nms", "batched_nms", "mean_average_precision"])
def test_each_array_is_scanned_once(monkeypatch, call, scans):
    from classic_cv import _validate

    count = []
    scan = _validate.check_finite
    monkeypatch.setattr(_validate, "check_finite", lambda *args: count.append(args[:2]) or scan(*args))
    call()
    assert len(count) == scans, count

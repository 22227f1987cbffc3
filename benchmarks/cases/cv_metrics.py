"""Detection and image-quality metrics against OpenCV, pycocotools and scikit-image.

NMS: 5000 boxes in clusters of 10 around 500 objects (as a detector's raw output),
given to OpenCV as (x, y, w, h) float64 boxes and float32 scores. IoU matrix:
2000 x 2000 boxes, pycocotools taking them as (x, y, w, h). SSIM: camera against a
noisy copy, Gaussian window (sigma 1.5), skimage's ``gaussian_weights=True,
use_sample_covariance=False``. mAP: synthetic detections over 3 classes (``synthetic_detections``, which
the tests use too); COCOeval's side builds its index from the json dicts, then evaluates and
accumulates, as a user of pycocotools does.
"""
import contextlib
import io

import numpy as np

from benchmarks.harness import Case
from classic_cv.boxes import batched_nms, box_convert, box_iou, mean_average_precision, nms
from classic_cv.metrics import ssim


def _clustered_boxes(rng, n_objects, per_object):
    centre = rng.random((n_objects, 2)) * 1000
    size = 20 + rng.random((n_objects, 2)) * 80
    centre = np.repeat(centre, per_object, axis=0) + rng.normal(0, 4, (n_objects * per_object, 2))
    size = np.repeat(size, per_object, axis=0) * (1 + rng.normal(0, 0.1, (n_objects * per_object, 2)))
    return np.hstack([centre - size / 2, centre + size / 2])


def xywh(b):
    """(N, 4) xyxy boxes as (x, y, width, height), the format of OpenCV and COCO."""
    return np.hstack([b[:, :2], b[:, 2:] - b[:, :2]])


def synthetic_detections(rng, n_images=50, n_classes=3):
    """Per-image detections and ground truths in ``mean_average_precision``'s format: true
    boxes (a tenth crowd regions), detections jittered from 85 % of them (a tenth with the
    wrong class), plus false positives anywhere; scores lean higher for true detections."""
    detections, ground_truths = [], []
    for _ in range(n_images):
        m = int(rng.integers(0, 8))
        xy, wh = rng.random((m, 2)) * 400, rng.random((m, 2)) * 80 + 4
        truth = np.hstack([xy, xy + wh])
        classes = rng.integers(0, n_classes, m)
        found = rng.random(m) < 0.85
        jitter = rng.normal(0, 0.06, (int(found.sum()), 4)) * np.tile(wh[found], 2)
        hits = truth[found] + jitter
        hits[:, 2:] = np.maximum(hits[:, 2:], hits[:, :2] + 0.5)
        hit_classes = classes[found].copy()
        wrong = rng.random(len(hit_classes)) < 0.1
        hit_classes[wrong] = rng.integers(0, n_classes, int(wrong.sum()))
        n_false = int(rng.integers(0, 5))
        fxy = rng.random((n_false, 2)) * 400
        false = np.hstack([fxy, fxy + rng.random((n_false, 2)) * 80 + 4])
        detections.append({
            "boxes": np.vstack([hits, false]),
            "scores": np.concatenate([0.3 + 0.7 * rng.random(len(hits)), rng.random(n_false)]),
            "classes": np.concatenate([hit_classes, rng.integers(0, n_classes, n_false)]),
        })
        ground_truths.append({"boxes": truth, "classes": classes, "iscrowd": rng.random(m) < 0.1})
    return detections, ground_truths


def cocoeval(detections, ground_truths, n_classes=3, max_dets=100):
    """COCOeval (bbox) on the same data, as COCO json dicts: returns the evaluator after
    evaluate + accumulate + summarize (``stats``). Image ids and category ids start at 1."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, annotations, results = [], [], []
    for i, (det, gt) in enumerate(zip(detections, ground_truths)):
        images.append({"id": i + 1, "width": 500, "height": 500})
        for box, c, crowd in zip(xywh(gt["boxes"]), gt["classes"], gt["iscrowd"]):
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": int(c) + 1,
                                "bbox": box.tolist(), "area": float(box[2] * box[3]), "iscrowd": int(crowd)})
        for box, score, c in zip(xywh(det["boxes"]), det["scores"], det["classes"]):
            results.append({"image_id": i + 1, "category_id": int(c) + 1, "bbox": box.tolist(),
                            "score": float(score)})
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools reports on stdout
        truth = COCO()
        truth.dataset = {"images": images, "annotations": annotations,
                         "categories": [{"id": k + 1, "name": str(k)} for k in range(n_classes)]}
        truth.createIndex()
        evaluator = COCOeval(truth, truth.loadRes(results), "bbox")
        evaluator.params.maxDets = [1, min(10, max_dets), max_dets]
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def _coco_map(detections, ground_truths):
    return cocoeval(detections, ground_truths).stats[0]


def cases(quick):
    try:
        import cv2
        from pycocotools import mask as coco_mask
        from skimage import data
        from skimage.metrics import structural_similarity
    except ImportError:
        return []
    rng = np.random.default_rng(0)
    out = []

    boxes = _clustered_boxes(rng, 500, 10)
    scores = rng.random(len(boxes)).astype(np.float32)
    classes = rng.integers(0, 20, len(boxes))
    rects = box_convert(boxes, "xyxy", "xywh")
    out.append(Case("metrics nms 5000 boxes", lambda: nms(boxes, scores, 0.5),
                    {"cv2": lambda: cv2.dnn.NMSBoxes(rects, scores, 0.0, 0.5)}, note="IoU 0.5, 500 clusters"))
    out.append(Case("metrics batched_nms 5000 boxes", lambda: batched_nms(boxes, scores, classes, 0.5),
                    {"cv2": lambda: cv2.dnn.NMSBoxesBatched(rects, scores, classes, 0.0, 0.5)}, note="20 classes"))

    b1, b2 = _clustered_boxes(rng, 200, 10), _clustered_boxes(rng, 200, 10)
    w1, w2 = box_convert(b1, "xyxy", "xywh"), box_convert(b2, "xyxy", "xywh")
    no_crowd = np.zeros(len(b2), dtype=np.uint8)
    out.append(Case("metrics box_iou 2000x2000", lambda: box_iou(b1, b2),
                    {"pycocotools": lambda: coco_mask.iou(w1, w2, no_crowd)}))

    camera = data.camera()
    noisy = np.clip(camera + rng.normal(0, 20, camera.shape), 0, 255).astype(np.uint8)
    out.append(Case("metrics ssim camera 512", lambda: ssim(camera, noisy),
                    {"skimage": lambda: structural_similarity(camera, noisy, gaussian_weights=True, sigma=1.5,
                                                              use_sample_covariance=False)},
                    note="Gaussian window, uint8"))

    n_images = 50 if quick else 500
    detections, ground_truths = synthetic_detections(np.random.default_rng(1), n_images=n_images)
    out.append(Case(f"metrics mAP {n_images} images", lambda: mean_average_precision(detections, ground_truths),
                    {"pycocotools": lambda: _coco_map(detections, ground_truths)},
                    note="3 classes, COCO AP@[.5:.95]"))
    return out

"""SIFT detection + description against OpenCV's and scikit-image's SIFT (same grey input)."""
from benchmarks.harness import Case
from classic_cv.sift import sift


def _skimage_sift(image):
    from skimage.feature import SIFT

    extractor = SIFT()
    extractor.detect_and_extract(image)
    return extractor.descriptors


def cases(quick):
    try:
        import cv2
        from skimage import data
    except ImportError:
        return []
    images = {"camera_512": data.camera()}
    if not quick:
        images["camera_2048"] = cv2.resize(data.camera(), (2048, 2048), interpolation=cv2.INTER_CUBIC)
    detector = cv2.SIFT_create()
    out = []
    for name, image in images.items():
        refs = {"cv2": lambda image=image: detector.detectAndCompute(image, None)}
        if not quick and image.shape[0] <= 512:  # scikit-image takes seconds per call
            refs["skimage"] = lambda image=image: _skimage_sift(image)
        out.append(Case(f"sift_{name}", lambda image=image: sift(image), refs, note=f"{image.shape[0]}x{image.shape[1]}"))
    return out

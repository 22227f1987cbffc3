"""Masks, label maps and image quality: IoU/Dice equal pycocotools' and scikit-learn's,
confusion matrix and mIoU equal scikit-learn's, PSNR and SSIM equal scikit-image's on real
images; bad input is refused."""
import numpy as np
import pytest

import classic_cv as cv
from classic_cv.filters import gaussian_blur


def _gray(skimage, name):
    image = getattr(skimage.data, name)()
    return skimage.color.rgb2gray(image) if image.ndim == 3 else image / 255.0


def _label_maps(skimage, rng, num_classes=4):
    """A real image cut into ``num_classes`` intensity bands (target), and the bands of a
    blurred, noisy copy (prediction)."""
    image = _gray(skimage, "camera")[::2, ::2]
    edges = np.quantile(image, np.linspace(0, 1, num_classes + 1)[1:-1])
    noisy = gaussian_blur(image, 1.5) + rng.normal(0, 0.05, image.shape)
    return np.digitize(noisy, edges), np.digitize(image, edges)


def _noisy(image, rng, sigma, high):
    return np.clip(image + rng.normal(0, sigma, image.shape), 0, high)


# ------------------------------------------------------------------ masks
def test_mask_iou_equals_pycocotools(skimage, rng):
    mask_api = pytest.importorskip("pycocotools.mask")
    coins = _gray(skimage, "coins")
    masks = np.stack([coins > t for t in (0.3, 0.4, 0.5, 0.6, 0.99)])  # the last one empty
    other = np.stack([gaussian_blur(coins, 2) > t for t in (0.35, 0.55, 2.0)])  # the last one empty
    encode = lambda m: mask_api.encode(np.asfortranarray(m.transpose(1, 2, 0).astype(np.uint8)))  # noqa: E731
    ref = mask_api.iou(encode(masks), encode(other), np.zeros(len(other), dtype=np.uint8))
    np.testing.assert_allclose(cv.mask_iou(masks, other), ref, rtol=0, atol=1e-12)
    assert cv.mask_iou(masks[1], other[0]) == pytest.approx(ref[1, 0], abs=1e-12)
    assert cv.mask_iou(masks[4], other[2]) == 0.0  # empty union


def test_dice_equals_f1_score(skimage):
    metrics = pytest.importorskip("sklearn.metrics")
    coins = _gray(skimage, "coins")
    a, b = coins > 0.45, gaussian_blur(coins, 3) > 0.5
    assert cv.dice(a, b) == pytest.approx(metrics.f1_score(a.ravel(), b.ravel()), abs=1e-12)
    assert cv.dice(a.astype(np.uint8) * 255, b.astype(float)) == cv.dice(a, b)  # nonzero is inside
    iou = cv.mask_iou(a, b)
    assert cv.dice(a, b) == pytest.approx(2 * iou / (1 + iou), abs=1e-12)
    assert cv.dice(np.zeros((3, 3)), np.zeros((3, 3))) == 0.0


# -------------------------------------------------------------- label maps
@pytest.mark.parametrize("ignore_index", [None, 2, 255])
def test_confusion_matrix_and_iou_equal_sklearn(skimage, rng, ignore_index):
    metrics = pytest.importorskip("sklearn.metrics")
    pred, target = _label_maps(skimage, rng)
    if ignore_index == 255:
        target = np.where(rng.random(target.shape) < 0.1, 255, target)
    keep = target != ignore_index
    ref = metrics.confusion_matrix(target[keep], pred[keep], labels=range(5))
    confusion = cv.confusion_matrix(pred, target, 5, ignore_index=ignore_index)  # class 4 absent
    np.testing.assert_array_equal(confusion, ref)
    present = np.flatnonzero(ref.sum(0) + ref.sum(1))
    jaccard = metrics.jaccard_score(target[keep], pred[keep], labels=present, average=None)
    iou = cv.class_iou(confusion)
    np.testing.assert_allclose(iou[present], jaccard, rtol=0, atol=1e-12)
    assert np.isnan(iou[4])
    assert cv.mean_iou(pred, target, 5, ignore_index) == pytest.approx(jaccard.mean(), abs=1e-12)


def test_mean_iou_small_cases():
    target = np.array([[0, 0, 1], [1, 2, 2]])
    assert cv.mean_iou(target, target, 3) == 1.0
    assert cv.mean_iou(np.zeros((2, 3), int), target, 3) == pytest.approx(2 / 6 / 3)
    assert np.isnan(cv.mean_iou(target, np.full((2, 3), 9), 3, ignore_index=9))
    np.testing.assert_array_equal(cv.class_iou(np.diag([3, 0, 1])), [1.0, np.nan, 1.0])


# ----------------------------------------------------------- PSNR and SSIM
def _image_pairs(skimage, rng):
    """(name, image, distorted, data_range for skimage): 8-bit camera, astronaut as gray
    floats, astronaut in colour."""
    camera = skimage.data.camera()
    astronaut = _gray(skimage, "astronaut")
    colour = skimage.data.astronaut()[::2, ::2]
    return [
        ("camera", camera, _noisy(camera, rng, 20, 255).astype(np.uint8), None),
        ("camera_blur", camera, (gaussian_blur(camera, 2) * 255).round().astype(np.uint8), None),
        ("astronaut_gray", astronaut, _noisy(astronaut, rng, 0.08, 1.0), 1.0),
        ("astronaut_rgb", colour, _noisy(colour, rng, 15, 255).astype(np.uint8), None),
    ]


def test_ssim_equals_skimage(skimage, rng):
    from skimage.metrics import structural_similarity

    for name, image, distorted, data_range in _image_pairs(skimage, rng):
        channel_axis = 2 if image.ndim == 3 else None
        ref, ref_map = structural_similarity(image, distorted, data_range=data_range, gaussian_weights=True,
                                             sigma=1.5, use_sample_covariance=False, channel_axis=channel_axis,
                                             full=True)
        ours, ours_map = cv.ssim(image, distorted, full=True)
        assert 0.1 < ref < 0.95, name  # a real distortion, not a trivial pair
        assert ours == pytest.approx(ref, abs=1e-6), name
        np.testing.assert_allclose(ours_map, ref_map, rtol=0, atol=1e-6, err_msg=name)
        for sample in (True, False):
            ref = structural_similarity(image, distorted, data_range=data_range, win_size=7,
                                        use_sample_covariance=sample, channel_axis=channel_axis)
            ours = cv.ssim(image, distorted, window="uniform", win_size=7, use_sample_covariance=sample)
            assert ours == pytest.approx(ref, abs=1e-6), (name, sample)


def test_ssim_options_equal_skimage(skimage, rng):
    from skimage.metrics import structural_similarity

    image = _gray(skimage, "camera")[100:228, 150:278] * 4 - 1  # values in [-1, 3]
    distorted = _noisy(image, rng, 0.3, 3)
    for kwargs in ({"sigma": 0.8}, {"sigma": 3.0, "k1": 0.02, "k2": 0.05}):
        ref = structural_similarity(image, distorted, data_range=4.0, gaussian_weights=True,
                                    use_sample_covariance=False, K1=kwargs.get("k1", 0.01),
                                    K2=kwargs.get("k2", 0.03), sigma=kwargs["sigma"])
        assert cv.ssim(image, distorted, data_range=4.0, **kwargs) == pytest.approx(ref, abs=1e-6)
    ref = structural_similarity(image, distorted, data_range=4.0, win_size=11)
    assert cv.ssim(image, distorted, data_range=4.0, window="uniform", win_size=11,
                   use_sample_covariance=True) == pytest.approx(ref, abs=1e-6)
    assert cv.ssim(image, image, data_range=4.0) == pytest.approx(1.0, abs=1e-12)


def test_psnr_equals_skimage(skimage, rng):
    from skimage.metrics import peak_signal_noise_ratio

    for name, image, distorted, data_range in _image_pairs(skimage, rng):
        ref = peak_signal_noise_ratio(image, distorted, data_range=data_range)
        assert cv.psnr(image, distorted) == pytest.approx(ref, abs=1e-10), name
        assert cv.psnr(image, distorted, data_range=7.0) == pytest.approx(
            peak_signal_noise_ratio(image, distorted, data_range=7.0), abs=1e-10), name
    assert cv.psnr(image, image) == np.inf


def test_scores_do_not_depend_on_the_scale(skimage, rng):
    camera = skimage.data.camera()[:200, :200]
    noisy = _noisy(camera, rng, 20, 255).astype(np.uint8)
    assert cv.ssim(camera / 255.0, noisy / 255.0) == pytest.approx(cv.ssim(camera, noisy), abs=1e-12)
    assert cv.psnr(camera / 255.0, noisy / 255.0) == pytest.approx(cv.psnr(camera, noisy), abs=1e-9)


# ------------------------------------------------------------- bad input
def _refused(call, *args, match, error=ValueError, **kwargs):
    with pytest.raises(error, match=match):
        call(*args, **kwargs)


def test_bad_masks_are_refused():
    a = np.zeros((4, 5), bool)
    _refused(cv.mask_iou, a, np.zeros((4, 6)), match=r"mask_iou: mask2 must match mask1")
    _refused(cv.mask_iou, a, np.zeros((2, 4, 5)), match=r"mask_iou: mask2 must match mask1")
    _refused(cv.mask_iou, np.zeros(5), a, match=r"mask_iou: mask1 must be 2-D or 3-D")
    _refused(cv.mask_iou, a, np.full((4, 5), np.nan), match="mask_iou: mask2 must be finite")
    _refused(cv.mask_iou, [[1, 0]], a, match="mask_iou: mask1 must be a numpy array", error=TypeError)
    _refused(cv.dice, a, np.zeros((5, 4)), match=r"dice: mask2 must have the shape of mask1 \(4, 5\)")
    _refused(cv.dice, a, np.zeros((0, 5)), match="dice: mask2 must not be empty")


def test_bad_label_maps_are_refused():
    labels = np.array([[0, 1], [2, 3]])
    _refused(cv.confusion_matrix, labels, labels, 3, match=r"confusion_matrix: target must hold labels in \[0, 3\) "
             r"\(num_classes\), got values from 0 to 3")
    _refused(cv.confusion_matrix, labels, labels, 3, ignore_index=0,
             match=r"target must hold labels in \[0, 3\) \(num_classes\) or ignore_index")
    _refused(cv.confusion_matrix, labels + 1, labels, 4, ignore_index=0, match=r"pred must hold labels in \[0, 4\)")
    _refused(cv.confusion_matrix, -labels, labels, 4, match=r"pred must hold labels in \[0, 4\)")
    _refused(cv.confusion_matrix, labels, labels[:1], 4, match=r"confusion_matrix: pred must have the shape of target")
    _refused(cv.confusion_matrix, labels * 1.0, labels, 4, error=TypeError,
             match="confusion_matrix: pred must hold integers")
    _refused(cv.confusion_matrix, labels, labels, 0, match="confusion_matrix: num_classes must be an integer >= 1")
    _refused(cv.mean_iou, labels, labels, 2, match=r"mean_iou: target must hold labels in \[0, 2\)")
    _refused(cv.mean_iou, labels, labels, 4, ignore_index=1.5, match="mean_iou: ignore_index must be an integer",
             error=TypeError)
    _refused(cv.class_iou, np.ones((2, 3), int), match=r"class_iou: confusion must be a non-empty square")
    _refused(cv.class_iou, -np.eye(2, dtype=int), match="class_iou: confusion must hold counts >= 0")


def test_bad_images_are_refused(rng):
    image = rng.random((16, 16))
    _refused(cv.ssim, image, image[:, :15], match=r"ssim: image2 must have the shape of image1 \(16, 16\)")
    _refused(cv.psnr, image, image[:8], match=r"psnr: image_test must have the shape of image_true")
    _refused(cv.ssim, image * 255, image, match="ssim: data_range must be given unless")
    _refused(cv.psnr, image.astype(np.float32), (image * 255).astype(np.uint8), match="psnr: data_range must be given")
    _refused(cv.ssim, image, image, data_range=0, match="ssim: data_range must be > 0")
    _refused(cv.ssim, image, image, window="box", match="ssim: window must be one of")
    _refused(cv.ssim, image, image, window="uniform", win_size=4, match="ssim: win_size must be odd")
    _refused(cv.ssim, image, image, window="uniform", win_size=1, match="ssim: win_size must be an integer >= 3")
    _refused(cv.ssim, image[:9, :9], image[:9, :9], match=r"ssim: image1 must be at least as large as the 11x11 window")
    _refused(cv.ssim, image, image, sigma=0, match="ssim: sigma must be in")
    _refused(cv.ssim, image, image, k2=-1, match="ssim: k2 must be > 0")
    _refused(cv.ssim, image, image, full=1, match="ssim: full must be True or False", error=TypeError)
    _refused(cv.ssim, image, np.where(image > 0.5, np.nan, image), match="ssim: image2 must be finite")
    _refused(cv.psnr, image, "image", match="psnr: image_test must be a numpy array", error=TypeError)


def test_each_image_is_scanned_once(monkeypatch, rng):
    from classic_cv import _validate

    count = []
    scan = _validate.check_finite
    monkeypatch.setattr(_validate, "check_finite", lambda *args: count.append(args[:2]) or scan(*args))
    image = rng.random((16, 16))
    cv.ssim(image, image)
    cv.psnr(image, image)
    assert len(count) == 4, count

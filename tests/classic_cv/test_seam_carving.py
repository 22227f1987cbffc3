"""Seam carving: kernels equal their NumPy twins, every removed seam is minimal
(brute force), and results equal the `seam-carving` package where energies agree."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classic_cv import seam_carving as sc
from classic_cv._kernels import seam as k
from classic_cv.naive import seam_carving as naive


def brute_force_min_seam(energy):
    """Cost of the cheapest 8-connected vertical seam by enumerating every path."""
    h, w = energy.shape
    best = np.inf
    for start in range(w):
        for steps in itertools.product((-1, 0, 1), repeat=h - 1):
            cols = start + np.cumsum((0,) + steps)
            if cols.min() < 0 or cols.max() >= w:
                continue
            best = min(best, energy[np.arange(h), cols].sum())
    return best


def dp_min_seam(energy):
    """Cost of the cheapest seam by the textbook recurrence (independent of the library)."""
    cost = energy[0].astype(np.float64)
    for r in range(1, len(energy)):
        padded = np.pad(cost, 1, constant_values=np.inf)
        cost = energy[r] + np.minimum(np.minimum(padded[:-2], padded[1:-1]), padded[2:])
    return cost.min()


def seam_cost(energy, seam):
    assert np.all(np.abs(np.diff(seam)) <= 1), "seam is not 8-connected"
    return energy[np.arange(len(seam)), seam].sum()


@settings(max_examples=25)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 2**31))
def test_find_seam_is_minimal_brute_force(h, w, seed):
    energy = np.random.default_rng(seed).integers(0, 5, (h, w)).astype(float)  # many ties
    seam, cost = sc.find_seam(energy)
    assert seam_cost(energy, seam) == cost == brute_force_min_seam(energy)


@pytest.mark.parametrize("forward", [False, True])
def test_every_removed_seam_is_minimal(forward):
    rng = np.random.default_rng(1)
    gray = rng.random((14, 12))
    n_seams = 6
    aux = np.zeros_like(gray)
    _, costs = k.carve_vertical(gray[:, :, None].copy(), gray.copy(), aux.copy(), n_seams, forward)
    for i in range(n_seams):
        # State after i removals, from the same deterministic kernel.
        img, g = gray[:, :, None].copy(), gray.copy()
        k.carve_vertical(img, g, aux.copy(), i, forward)
        g = g[:, : gray.shape[1] - i]
        if forward:
            expected = dp_min_forward(g)
        else:
            expected = dp_min_seam(naive.backward_energy(g))
        assert costs[i] == pytest.approx(expected, rel=1e-12), i


def dp_min_forward(gray):
    """Forward-energy seam cost by the recurrence of Rubinstein et al. (replicated borders)."""
    p = np.pad(gray, ((0, 0), (1, 1)), mode="edge")
    left, right = p[:, :-2], p[:, 2:]
    cu = np.abs(right - left)
    cost = cu[0].copy()
    for r in range(1, len(gray)):
        cl = cu[r] + np.abs(gray[r - 1] - left[r])
        cr = cu[r] + np.abs(gray[r - 1] - right[r])
        pad = np.pad(cost, 1, constant_values=np.inf)
        cost = np.minimum(np.minimum(pad[:-2] + cl, pad[1:-1] + cu[r]), pad[2:] + cr)
    return cost.min()


@settings(max_examples=15)
@given(st.integers(1, 12), st.integers(2, 12), st.integers(0, 2**31))
def test_energy_kernel_equals_twin(h, w, seed):
    gray = np.random.default_rng(seed).random((h, w))
    np.testing.assert_allclose(k.backward_energy(gray, w), naive.backward_energy(gray), rtol=0, atol=1e-12)


@pytest.mark.parametrize("forward", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_carve_kernel_equals_twin(forward, seed):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 4, (17, 15, 3)).astype(float)  # coarse values: ties matter
    gray = image @ np.array([0.2125, 0.7154, 0.0721])
    aux = np.where(rng.random(gray.shape) < 0.1, 5.0, 0.0)
    n = 9
    img_fast, g_fast, a_fast = image.copy(), gray.copy(), aux.copy()
    removed, costs = k.carve_vertical(img_fast, g_fast, a_fast, n, forward)
    img_ref, removed_ref, costs_ref = naive.carve_vertical(image, gray, aux, n, forward)
    np.testing.assert_array_equal(removed, removed_ref)
    np.testing.assert_allclose(costs, costs_ref, rtol=1e-12)
    np.testing.assert_array_equal(img_fast[:, : 15 - n], img_ref)
    inserted = k.insert_seams(image, removed, n)
    np.testing.assert_array_equal(inserted, naive.insert_seams(image, removed))


def test_incremental_energy_equals_recomputed(skimage):
    gray = skimage.data.camera()[100:164, 200:264].astype(float)
    img, g, aux = gray[:, :, None].copy(), gray.copy(), np.zeros_like(gray)
    w = gray.shape[1]
    energy = k.backward_energy(g, w)
    seam = np.empty(len(g), dtype=np.int64)
    index = np.zeros(g.shape, dtype=np.int64)
    for _ in range(20):
        k.backward_seam(energy, aux, w, seam)
        k.remove_seam(seam, w, img, g, aux, index)
        w -= 1
        k.update_energy(energy, g, seam, w)
        np.testing.assert_array_equal(energy[:, :w], naive.backward_energy(g[:, :w]))


@pytest.mark.parametrize("energy", ["backward", "forward"])
@pytest.mark.parametrize("width", [200, 300])
def test_matches_seam_carving_package_gray(skimage, energy, width):
    seam_carving = pytest.importorskip("seam_carving")
    # Float32 grey input: both libraries see the same luminance, so energies agree
    # bit for bit and so must the results (same left-first tie breaking).
    image = skimage.data.camera()[::2, ::2].astype(np.float32)
    ours = sc.seam_carve(image, width=width, energy=energy)
    ref = seam_carving.resize(image, (width, image.shape[0]), energy_mode=energy)
    np.testing.assert_array_equal(ours, ref)


def test_matches_seam_carving_package_height(skimage):
    seam_carving = pytest.importorskip("seam_carving")
    image = skimage.data.coins()[::2, ::2].astype(np.float32)
    h, w = image.shape
    ours = sc.seam_carve(image, height=h - 40, width=w - 30)
    ref = seam_carving.resize(image, (w - 30, h - 40))
    np.testing.assert_array_equal(ours, ref)


def test_height_is_transposed_width(skimage):
    image = skimage.data.coffee()[::4, ::4]
    tall = sc.seam_carve(image, height=80)
    wide = sc.seam_carve(image.transpose(1, 0, 2), width=80)
    np.testing.assert_array_equal(tall, wide.transpose(1, 0, 2))
    assert tall.dtype == np.uint8 and tall.shape == (80, image.shape[1], 3)


def test_enlarge_inserts_distinct_cheapest_seams(skimage):
    image = skimage.data.camera()[::4, ::4].astype(float)
    removed, _ = k.carve_vertical(image[:, :, None].copy(), image.copy(), np.zeros_like(image), 30, False)
    out = sc.seam_carve(image, width=image.shape[1] + 30)
    assert out.shape == (image.shape[0], image.shape[1] + 30)
    # Dropping the inserted pixels gives back the original image, row by row.
    for r in range(image.shape[0]):
        cols = np.nonzero(removed[r])[0]
        inserted_at = cols + np.arange(len(cols))
        np.testing.assert_array_equal(np.delete(out[r], inserted_at), image[r])
    big = sc.seam_carve(image, width=3 * image.shape[1])  # more seams than columns: in steps
    assert big.shape[1] == 3 * image.shape[1]


def test_remove_object_and_protect():
    rng = np.random.default_rng(0)
    image = rng.integers(10, 200, (60, 80)).astype(np.uint8)
    image[20:35, 30:38] = 250  # the object: a value found nowhere else
    mask = image == 250
    protect = np.zeros_like(mask)
    protect[:, 40:44] = True
    image[:, 40:44] = 5  # protected marker column block
    out = sc.remove_object(image, mask, protect=protect, restore_size=False)
    assert (out == 250).sum() == 0
    assert (out == 5).sum() == 60 * 4
    assert out.shape[0] == 60 and 72 - 2 <= out.shape[1] <= 72
    restored = sc.remove_object(image, mask, protect=protect)
    assert restored.shape == image.shape and (restored == 250).sum() == 0


def test_remove_wide_object_uses_horizontal_seams():
    image = np.random.default_rng(1).random((50, 60))
    mask = np.zeros(image.shape, bool)
    mask[10:14, 5:50] = True
    out = sc.remove_object(image, mask, restore_size=False)
    assert out.shape[1] == 60 and out.shape[0] <= 46


def test_bad_input():
    img = np.zeros((10, 12))
    with pytest.raises(ValueError, match="seam_carve: image must be 2-D or 3-D"):
        sc.seam_carve(np.zeros((2, 3, 4, 5)), width=2)
    with pytest.raises(ValueError, match="must not be empty"):
        sc.seam_carve(np.zeros((0, 5)), width=2)
    nan = img.copy()
    nan[1, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        sc.seam_carve(nan, width=5)
    with pytest.raises(ValueError, match="seam_carve: width must be an integer >= 1"):
        sc.seam_carve(img, width=0)
    with pytest.raises(ValueError, match=r"image must be \(H, W\) or \(H, W, 3\)"):
        sc.seam_carve(np.zeros((5, 5, 4)), width=3)
    with pytest.raises(ValueError, match="energy must be one of"):
        sc.seam_carve(img, width=5, energy="sideways")
    with pytest.raises(ValueError, match="protect must have shape"):
        sc.seam_carve(img, width=5, protect=np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match="mask must have shape"):
        sc.remove_object(img, np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match="empty mask"):
        sc.remove_object(img, np.zeros(img.shape, bool))
    with pytest.raises(TypeError, match="image must have a real numeric dtype"):
        sc.seam_carve(np.zeros((4, 4), dtype=complex), width=2)

"""After the ``precompile`` modules ran, real work compiles nothing.

Each workload runs in a fresh process (a kernel compiled earlier in this test
process would hide a cache miss) and reports every Numba kernel that had to be
compiled because the on-disk cache did not hold its argument types.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

# Collects each kernel's cache misses after the workload ran.
REPORT_MISSES = """
import json, sys
from numba.core.dispatcher import Dispatcher
missed = sorted(
    f"{module_name}.{name}{tuple(str(t) for t in signature)}"
    for module_name, module in list(sys.modules.items())
    if module_name.split(".")[0] in ("layers", "optim", "classic_cv")
    for name, value in vars(module).items() if isinstance(value, Dispatcher)
    for signature in value.stats.cache_misses
)
print(json.dumps(missed))
"""

COURSE_MODELS = """
import numpy as np
import minigrad as mg
from assignments.captioning import Captioner, teacher_tokens
from assignments.models import ConvNet, RecurrentClassifier, VisionTransformer
from layers import cross_entropy
from optim import Adam

rng = np.random.default_rng(0)
images = rng.random((16, 1, 28, 28), dtype=np.float32)
labels = rng.integers(0, 10, 16)
models = [ConvNet((1, 28, 28), 10, (16, 32), 64, shift=2, rng=0),
          RecurrentClassifier((1, 28, 28), 10, cell="lstm", hidden=32, rng=0),
          RecurrentClassifier((1, 28, 28), 10, cell="rnn", hidden=32, rng=0),
          VisionTransformer((1, 28, 28), 10, rng=0)]
for model in models:
    optimizer = Adam(model.parameters(), lr=1e-3)
    cross_entropy(model(mg.Tensor(images)), labels).backward()
    optimizer.step()
strips = rng.random((4, 1, 28, 84), dtype=np.float32)
digits = rng.integers(0, 10, (4, 3))
for decoder in ("lstm", "transformer"):
    model = Captioner((1, 28, 84), decoder=decoder, rng=0)
    scores = model(mg.Tensor(strips), teacher_tokens(digits))
    cross_entropy(scores.reshape(-1, scores.shape[-1]), digits.reshape(-1)).backward()
    model.eval()
    model.greedy(strips)
from assignments import detection, segmentation
from assignments.scenes import load_digit_scenes
scenes = load_digit_scenes(8, 2, 2, seed=0).train
for name in segmentation.MODELS:
    model = segmentation.build_model(name, 0, scenes.masks)
    segmentation.segmentation_loss(model(mg.Tensor(scenes.images)), scenes.masks, "ce+dice").backward()
model = detection.build_model(0)
logits, distances = model(mg.Tensor(scenes.images))
detection.detection_loss(logits, distances, *detection.encode_all(scenes)).backward()
detection.decode(logits.data[0], distances.data[0])
from assignments import ddpm
from layers import mse_loss
model = ddpm.build_model((1, 28, 28), ddpm.WIDTHS, 0)
mse_loss(model(mg.Tensor(images), np.arange(16)), mg.Tensor(images)).backward()
"""

# Every command line on real photographs (read as float64), then the library
# on a float32 photograph.
VISION = """
import os
import numpy as np
from PIL import Image
from skimage import data
import classic_cv as cv
from classic_cv.__main__ import main

folder = {folder!r}
left, right = os.path.join(folder, "left.png"), os.path.join(folder, "right.png")
Image.fromarray(data.astronaut()[:200, :200]).save(left)
Image.fromarray(data.astronaut()[40:240, 50:250]).save(right)
out = os.path.join(folder, "out.png")
commands = [["canny", left, out], ["harris", left, out], ["harris", left, out, "--shi-tomasi"],
            ["hough", left, out], ["hough", left, out, "--shape", "segments"],
            ["hough", left, out, "--shape", "circles", "--radii", "10", "20"],
            ["sift", left, out], ["sift", left, right, out], ["seam-carve", left, out, "--width", "190"],
            ["stitch", left, right, out], ["segment", left, out, "--boundaries"],
            ["segment", left, out, "--method", "mean-shift", "--bandwidth", "0.2"],
            ["flow", left, right, out], ["flow", left, right, out, "--method", "hs"],
            ["stereo", left, right, out], ["stereo", left, right, out, "--method", "bm"]]
for argv in commands:
    assert main(argv) == 0, argv
camera = data.camera()[100:300, 100:300].astype(np.float32) / 255
cv.sift(camera)
cv.corner_peaks(cv.corner_harris(camera), min_distance=5)
cv.hough_line_peaks(*cv.hough_line(cv.canny(camera, 2.0)))
cv.seam_carve(camera, width=190)
"""


def _cache_misses(workload, **env):
    """Kernels the workload compiled, run in a fresh Python process (``env`` added to its environment)."""
    code = textwrap.dedent(workload) + REPORT_MISSES
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900,
                            env={**os.environ, **env})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def precompiled():
    """Run what installation runs (the Makefile's ``precompile`` target)."""
    for module in ("layers.precompile", "optim.precompile", "classic_cv.precompile"):
        result = subprocess.run([sys.executable, "-m", module], capture_output=True, text=True, timeout=1800)
        assert result.returncode == 0, result.stderr[-3000:]


def test_course_models_compile_nothing_after_precompile(precompiled):
    assert _cache_misses(COURSE_MODELS) == []


def test_vision_commands_compile_nothing_after_precompile(precompiled, tmp_path):
    assert _cache_misses(VISION.format(folder=str(tmp_path))) == []


def test_a_compilation_is_seen(tmp_path):
    """With an empty cache folder the same check reports the kernel it compiled,
    so the empty list above means something."""
    workload = """
    import numpy as np
    import minigrad as mg
    from layers import leaky_relu
    leaky_relu(mg.Tensor(np.ones(3, np.float32)))
    """
    misses = _cache_misses(workload, NUMBA_CACHE_DIR=str(tmp_path))
    assert any(".leaky_relu" not in m and "_leaky(" in m for m in misses), misses

"""Seam carving against the `seam-carving` package (same energy, same seams)."""
import numpy as np

from benchmarks.harness import Case
from classic_cv.seam_carving import seam_carve


def cases(quick):
    try:
        import seam_carving
        from skimage import data
    except ImportError:
        return []
    camera = data.camera().astype(np.float32)
    images = {"camera": (camera, 64), "astronaut": (data.astronaut(), 64)}
    if not quick:
        # 2048 x 2048: 4 x 4 camera tiles; 8 seams keep the reference under ~10 s.
        images["camera4x"] = (np.tile(camera, (4, 4)), 8)
    out = []
    for name, (image, n_seams) in images.items():
        h, w = image.shape[:2]
        small = h <= 512  # the 2048 case: one shrink per energy keeps the suite short
        for energy in ("backward",) if quick else ("backward", "forward"):
            for label, size in (("shrink", w - n_seams), ("enlarge", w + n_seams))[: 2 if small else 1]:
                out.append(
                    Case(
                        f"seam_{label}_{energy}_{name}_{h}",
                        lambda image=image, size=size, energy=energy: seam_carve(image, width=size, energy=energy),
                        {
                            "seam_carving": lambda image=image, size=size, energy=energy, h=h: seam_carving.resize(
                                image, (size, h), energy_mode=energy
                            )
                        },
                        note=f"{n_seams} vertical seams",
                    )
                )
    return out

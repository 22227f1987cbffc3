"""Command line: ``python -m classic_cv COMMAND IN [IN2] OUT [options]``.

Each command reads image files, runs one algorithm and writes an 8-bit image
with the result drawn on it::

    python -m classic_cv canny photo.png edges.png --sigma 2
    python -m classic_cv harris photo.png corners.png --min-distance 7
    python -m classic_cv hough photo.png lines.png --shape circles --radii 15 40
    python -m classic_cv sift left.png right.png matches.png
    python -m classic_cv seam-carve photo.png narrow.png --width 300
    python -m classic_cv stitch left.png right.png panorama.png

Run ``python -m classic_cv COMMAND --help`` for each command's options.
"""
import argparse
import sys

import numpy as np

from . import io
from .filters import rgb2gray


def _canny(args):
    from .canny import canny

    image = io.read_image(args.input)
    edges = canny(image, args.sigma, args.low, args.high, use_quantiles=args.quantiles)
    out = io.overlay_mask(image, edges) if args.overlay else edges
    io.write_image(args.output, out)
    return f"{int(edges.sum())} edge pixels"


def _harris(args):
    from .harris import corner_harris, corner_peaks, corner_shi_tomasi

    image = io.read_image(args.input)
    if args.shi_tomasi:
        response = corner_shi_tomasi(image, sigma=args.sigma)
    else:
        response = corner_harris(image, k=args.k, sigma=args.sigma)
    coords = corner_peaks(response, min_distance=args.min_distance, threshold_rel=args.threshold_rel,
                          num_peaks=args.num_peaks)
    io.write_image(args.output, io.draw_points(image, coords[:, 0], coords[:, 1], radius=args.radius))
    return f"{len(coords)} corners"


def _hough(args):
    from .canny import canny
    from . import hough

    image = io.read_image(args.input)
    edges = canny(image, args.sigma)
    if args.shape == "lines":
        accumulator, theta, rho = hough.hough_line(edges)
        lines = hough.hough_line_peaks(accumulator, theta, rho, threshold=args.threshold, num_peaks=args.num_peaks)
        out = io.draw_segments(image, io.line_segments(lines.theta, lines.rho, image.shape))
        found = len(lines)
    elif args.shape == "segments":
        segments = hough.probabilistic_hough_line(edges, line_length=args.line_length, line_gap=args.line_gap,
                                                  rng=0)
        out = io.draw_segments(image, segments)
        found = len(segments)
    else:
        radii = np.arange(args.radii[0], args.radii[1] + 1)
        circles = hough.hough_circle_peaks(hough.hough_circle(edges, radii), radii, threshold=args.threshold,
                                           num_peaks=args.num_peaks)
        out = io.draw_circles(image, circles.x, circles.y, circles.radius)
        found = len(circles)
    io.write_image(args.output, out)
    return f"{found} {args.shape}"


def _side_by_side(img1, img2):
    """Two images on one canvas (left, right), padded to the taller; both RGB."""
    rgb = [np.repeat(im[:, :, None], 3, 2) if im.ndim == 2 else im for im in (img1, img2)]
    h = max(im.shape[0] for im in rgb)
    pad = [np.pad(im, ((0, h - im.shape[0]), (0, 0), (0, 0))) for im in rgb]
    return np.concatenate(pad, axis=1)


def _sift(args):
    from .matching import match_descriptors
    from .sift import sift

    img1 = io.read_image(args.input)
    kp1, desc1 = sift(img1)
    if args.input2 is None:
        xy = kp1.xy
        io.write_image(args.output, io.draw_points(img1, xy[:, 1], xy[:, 0], radius=3))
        return f"{len(kp1)} keypoints"
    img2 = io.read_image(args.input2)
    kp2, desc2 = sift(img2)
    matches, _ = match_descriptors(desc1, desc2, ratio=args.ratio, cross_check=args.cross_check)
    shift = np.array([img1.shape[1], 0.0])
    segments = np.stack([kp1.xy[matches[:, 0]], kp2.xy[matches[:, 1]] + shift], axis=1)
    io.write_image(args.output, io.draw_segments(_side_by_side(img1, img2), segments, color=(0, 255, 0)))
    return f"{len(kp1)} and {len(kp2)} keypoints, {len(matches)} matches"


def _seam_carve(args):
    from .seam_carving import seam_carve

    image = io.read_image(args.input)
    out = seam_carve(image, height=args.height, width=args.width, energy=args.energy)
    io.write_image(args.output, out)
    return f"{image.shape[:2]} -> {out.shape[:2]}"


def _stitch(args):
    from .stitching import stitch

    img1, img2 = io.read_image(args.input), io.read_image(args.input2)
    if (img1.ndim == 3) != (img2.ndim == 3):
        img1, img2 = (rgb2gray(im) if im.ndim == 3 else im for im in (img1, img2))
    panorama = stitch(img1, img2, ratio=args.ratio)
    io.write_image(args.output, panorama)
    return f"panorama {panorama.shape[:2]}"


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m classic_cv", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name, fn, help, second_input=None):
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("input", help="input image file")
        if second_input == "required":
            p.add_argument("input2", help="second input image file")
        elif second_input == "optional":
            p.add_argument("input2", nargs="?", help="second input image (optional)")
        p.add_argument("output", help="output image file (format from the extension)")
        p.set_defaults(run=fn)
        return p

    p = command("canny", _canny, "Canny edge map (white edges, or drawn over the image with --overlay)")
    p.add_argument("--sigma", type=float, default=1.0, help="Gaussian smoothing (default 1)")
    p.add_argument("--low", type=float, default=None, help="low threshold (default 0.1)")
    p.add_argument("--high", type=float, default=None, help="high threshold (default 0.2)")
    p.add_argument("--quantiles", action="store_true", help="thresholds are quantiles of the gradient magnitude")
    p.add_argument("--overlay", action="store_true", help="draw edges in red over the input")

    p = command("harris", _harris, "Harris (or Shi-Tomasi) corners drawn as circles")
    p.add_argument("--sigma", type=float, default=1.0, help="structure tensor window (default 1)")
    p.add_argument("--k", type=float, default=0.05, help="Harris sensitivity (default 0.05)")
    p.add_argument("--shi-tomasi", action="store_true", help="min-eigenvalue response instead of Harris")
    p.add_argument("--min-distance", type=int, default=5, help="minimum corner spacing in px (default 5)")
    p.add_argument("--threshold-rel", type=float, default=0.01, help="relative response threshold (default 0.01)")
    p.add_argument("--num-peaks", type=int, default=None, help="at most this many corners")
    p.add_argument("--radius", type=float, default=4, help="drawn circle radius")

    p = command("hough", _hough, "Hough lines, probabilistic segments or circles on Canny edges")
    p.add_argument("--shape", choices=("lines", "segments", "circles"), default="lines")
    p.add_argument("--sigma", type=float, default=2.0, help="Canny smoothing (default 2)")
    p.add_argument("--threshold", type=float, default=None, help="accumulator threshold (default half the max)")
    p.add_argument("--num-peaks", type=int, default=10, help="at most this many lines/circles (default 10)")
    p.add_argument("--radii", type=int, nargs=2, default=(10, 50), metavar=("MIN", "MAX"), help="circle radii")
    p.add_argument("--line-length", type=float, default=50, help="minimum segment length (default 50)")
    p.add_argument("--line-gap", type=int, default=5, help="largest gap inside a segment (default 5)")

    p = command("sift", _sift, "SIFT keypoints of one image, or matches between two", second_input="optional")
    p.add_argument("--ratio", type=float, default=0.75, help="Lowe's ratio test (default 0.75)")
    p.add_argument("--cross-check", action="store_true", help="keep only mutual nearest neighbours")

    p = command("seam-carve", _seam_carve, "content-aware resize by seam carving")
    p.add_argument("--width", type=int, default=None, help="output width (default unchanged)")
    p.add_argument("--height", type=int, default=None, help="output height (default unchanged)")
    p.add_argument("--energy", choices=("backward", "forward"), default="backward")

    p = command("stitch", _stitch, "two-image panorama (SIFT + RANSAC homography + warp)", second_input="required")
    p.add_argument("--ratio", type=float, default=0.75, help="Lowe's ratio test (default 0.75)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        summary = args.run(args)
    except (OSError, ValueError, TypeError) as exc:
        print(f"python -m classic_cv {args.command}: error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.command}: {summary} -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

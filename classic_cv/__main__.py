"""Command line: ``python -m classic_cv COMMAND IN [IN2] OUT [options]``.

Each command reads image files, runs one algorithm and writes an 8-bit image
with the result drawn on it::

    python -m classic_cv canny photo.png edges.png --sigma 2
    python -m classic_cv harris photo.png corners.png --min-distance 7
    python -m classic_cv hough photo.png lines.png --shape circles --radii 15 40
    python -m classic_cv sift left.png right.png matches.png
    python -m classic_cv sift photo.png keypoints.png --magnify 3
    python -m classic_cv seam-carve photo.png narrow.png --width 300
    python -m classic_cv stitch left.png right.png panorama.png
    python -m classic_cv stereo left.png right.png disparity.png --method sgm --max-disparity 64
    python -m classic_cv calibrate view1.png view2.png view3.png drawn.png --pattern 9x6
    python -m classic_cv flow frame0.png frame1.png flow.png --method lk --window 15
    python -m classic_cv segment photo.png segments.png --method mean-shift --position-weight 1 --boundaries

Run ``python -m classic_cv COMMAND --help`` for each command's options. Bad
options or files end the run with one line on stderr naming the option, and
exit code 2.
"""
import argparse
import os
import re
import sys

import numpy as np
from PIL import Image

from minigrad.validation import ArgumentParser, argument_type, check_int, check_number

from . import io
from .filters import MAX_SIGMA, rgb2gray


class UsageError(Exception):
    """A bad option or file; the message starts with the option's name."""


def _option(kind=float, **bounds):
    """An argparse ``type`` for a number in a range (``low``, ``high``, ``low_open``)."""
    return argument_type(check_int if kind is int else check_number, kind, **bounds)


def _call(options, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, its argument errors re-raised as ``UsageError`` naming options.

    ``options`` maps the library's argument names to this command's options
    (``{"low_threshold": "--low", "image": "input"}``): the library decides what
    is valid, and the message tells the user which option to change.
    """
    try:
        return fn(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        raise UsageError(_name_options(str(exc), options)) from None


def _name_options(message, options):
    """``"canny: low_threshold must be <= high_threshold, got ..."`` ->
    ``"argument --low: must be <= --high, got ..."``; a message about no mapped
    argument is returned unchanged."""
    text = message.partition(": ")[2]
    name = re.match(r"[A-Za-z_]\w*", text)
    if name is None or name.group() not in options:
        return message
    for arg, option in options.items():  # other arguments the message refers to
        text = re.sub(rf"(?<![\w-]){re.escape(arg)}\b", option, text)
    option = options[name.group()]
    rest = text[len(option):]
    return f"argument {option}:{rest}" if rest.startswith(" must") else f"argument {option}: {text}"


def _read(args, dest):
    """Read the image file named by the positional argument ``dest``."""
    path = getattr(args, dest)
    try:
        return io.read_image(path)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UsageError(f"argument {dest}: cannot read image {path!r} ({exc})") from None


def _write(args, image):
    try:
        io.write_image(args.output, image)
    except OSError as exc:
        raise UsageError(f"argument output: cannot write {args.output!r} ({exc})") from None


def _check_output(path):
    """Refuse an output file that could not be written before any work is done."""
    if os.path.splitext(path)[1].lower() not in Image.registered_extensions():
        raise UsageError(f"argument output: must end in an image file extension such as .png, got {path!r}")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise UsageError(f"argument output: folder {folder!r} does not exist")


def _canny(args):
    from .canny import canny

    options = {"image": "input", "sigma": "--sigma", "low_threshold": "--low", "high_threshold": "--high"}
    image = _read(args, "input")
    # None thresholds: the library's defaults; it also checks low <= high and the quantile range.
    edges = _call(options, canny, image, args.sigma, args.low, args.high, use_quantiles=args.quantiles)
    _write(args, io.overlay_mask(image, edges) if args.overlay else edges)
    return f"{int(edges.sum())} edge pixels"


def _harris(args):
    from .harris import corner_harris, corner_peaks, corner_shi_tomasi

    options = {"image": "input", "response": "input", "sigma": "--sigma", "k": "--k",
               "min_distance": "--min-distance", "threshold_rel": "--threshold-rel", "num_peaks": "--num-peaks",
               "radius": "--radius"}
    image = _read(args, "input")
    if args.shi_tomasi:
        response = _call(options, corner_shi_tomasi, image, sigma=args.sigma)
    else:
        response = _call(options, corner_harris, image, k=args.k, sigma=args.sigma)
    coords = _call(options, corner_peaks, response, min_distance=args.min_distance,
                   threshold_rel=args.threshold_rel, num_peaks=args.num_peaks)
    _write(args, _call(options, io.draw_points, image, coords, radius=args.radius))
    return f"{len(coords)} corners"


def _hough(args):
    from .canny import canny
    from . import hough

    if args.radii[0] > args.radii[1]:
        raise UsageError(f"argument --radii: MIN must be <= MAX, got {args.radii[0]} > {args.radii[1]}")
    options = {"image": "input", "sigma": "--sigma", "threshold": "--threshold", "num_peaks": "--num-peaks",
               "radii": "--radii", "line_length": "--line-length", "line_gap": "--line-gap"}
    image = _read(args, "input")
    edges = _call(options, canny, image, args.sigma)
    if args.shape == "lines":
        accumulator, theta, rho = hough.hough_line(edges)
        lines = _call(options, hough.hough_line_peaks, accumulator, theta, rho, threshold=args.threshold,
                      num_peaks=args.num_peaks)
        out = io.draw_segments(image, io.line_segments(lines.theta, lines.rho, image.shape))
        found = len(lines)
    elif args.shape == "segments":
        segments = _call(options, hough.probabilistic_hough_line, edges, line_length=args.line_length,
                         line_gap=args.line_gap, rng=0)
        out = io.draw_segments(image, segments)
        found = len(segments)
    else:
        radii = np.arange(args.radii[0], args.radii[1] + 1)
        circles = _call(options, hough.hough_circle_peaks, hough.hough_circle(edges, radii), radii,
                        threshold=args.threshold, num_peaks=args.num_peaks)
        out = io.draw_circles(image, circles.xy, circles.radius)
        found = len(circles)
    _write(args, out)
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

    img1 = _read(args, "input")
    img2 = None if args.input2 is None else _read(args, "input2")
    kp1, desc1 = _call({"image": "input"}, sift, img1)
    if img2 is None:
        _write(args, io.draw_keypoints(img1, kp1.xy, kp1.scale, kp1.orientation, magnify=args.magnify))
        return f"{len(kp1)} keypoints"
    kp2, desc2 = _call({"image": "input2"}, sift, img2)
    matches, _ = _call({"ratio": "--ratio"}, match_descriptors, desc1, desc2, ratio=args.ratio,
                       cross_check=args.cross_check)
    shift = np.array([img1.shape[1], 0.0])
    segments = np.stack([kp1.xy[matches[:, 0]], kp2.xy[matches[:, 1]] + shift], axis=1)
    _write(args, io.draw_segments(_side_by_side(img1, img2), segments, color=(0, 255, 0)))
    return f"{len(kp1)} and {len(kp2)} keypoints, {len(matches)} matches"


def _seam_carve(args):
    from .seam_carving import seam_carve

    image = _read(args, "input")
    out = _call({"image": "input", "width": "--width", "height": "--height", "energy": "--energy"}, seam_carve,
                image, height=args.height, width=args.width, energy=args.energy)
    _write(args, out)
    return f"{image.shape[:2]} -> {out.shape[:2]}"


def _stitch(args):
    from .stitching import stitch

    img1, img2 = _read(args, "input"), _read(args, "input2")
    if (img1.ndim == 3) != (img2.ndim == 3):
        img1, img2 = (rgb2gray(im) if im.ndim == 3 else im for im in (img1, img2))
    panorama = _call({"img1": "input", "img2": "input2", "ratio": "--ratio"}, stitch, img1, img2, ratio=args.ratio)
    _write(args, panorama)
    return f"panorama {panorama.shape[:2]}"


def _stereo(args):
    from .stereo import block_match, colorize_disparity, sgm

    left, right = _read(args, "input"), _read(args, "input2")
    match = sgm if args.method == "sgm" else block_match
    options = {"left": "input", "right": "input2", "max_disparity": "--max-disparity", "window": "--window"}
    window = {} if args.window is None else {"window": args.window}  # None: the matcher's default
    # Grey and colour inputs may be mixed: the matchers work on luminance.
    left, right = (rgb2gray(im) if im.ndim == 3 else im for im in (left, right))
    disparity = _call(options, match, left, right, max_disparity=args.max_disparity, **window)
    _write(args, colorize_disparity(disparity, max_disparity=args.max_disparity))
    return f"{np.isfinite(disparity).mean():.0%} of pixels matched"


def _calibrate(args):
    from .calibration import calibrate_camera, checkerboard_points, find_checkerboard_corners, project_points

    cols, rows = args.pattern
    # _read names the positional argument; with several files, the message also quotes which one.
    images = [_read(argparse.Namespace(views=path), "views") for path in args.views]
    corners = [_call({"image": f"views ({path})", "window": "--window"}, find_checkerboard_corners, image,
                     (cols, rows), window=args.window) for path, image in zip(args.views, images)]
    target = checkerboard_points((cols, rows), args.square)
    cal = _call({"image_points": "views"}, calibrate_camera, target, corners)
    reprojected = project_points(target, cal.K, cal.R[0], cal.t[0], cal.dist)
    drawn = io.draw_points(io.draw_points(images[0], corners[0], radius=4, color=(0, 255, 0)), reprojected, radius=1.5)
    _write(args, drawn)
    (fx, _, cx), (_, fy, cy) = cal.K[:2]
    return (f"{len(corners)} views, fx {fx:.1f} fy {fy:.1f} cx {cx:.1f} cy {cy:.1f}, "
            f"k1 {cal.dist[0]:.4f} k2 {cal.dist[1]:.4f}, RMS {cal.rms:.3f} px, "
            f"first board at distance {np.linalg.norm(cal.t[0]):.1f}")


def _flow(args):
    from .flow import flow_to_rgb, horn_schunck, lucas_kanade

    frame0, frame1 = _read(args, "input"), _read(args, "input2")
    options = {"image0": "input", "image1": "input2", "window": "--window", "alpha": "--alpha",
               "iterations": "--iterations", "levels": "--levels", "max_flow": "--max-flow"}
    if args.method == "hs":
        field = _call(options, horn_schunck, frame0, frame1, alpha=args.alpha,
                      iterations=args.iterations or 100, levels=args.levels)
    else:
        field = _call(options, lucas_kanade, frame0, frame1, window=args.window,
                      iterations=args.iterations or 10, levels=args.levels)
    _write(args, _call(options, flow_to_rgb, field, max_flow=args.max_flow))
    return f"mean flow length {np.hypot(field[..., 0], field[..., 1]).mean():.2f} px"


def _segment(args):
    from .segmentation import label_to_rgb, mark_boundaries, segment

    options = {"image": "input", "k": "--k", "bandwidth": "--bandwidth", "position_weight": "--position-weight"}
    image = _read(args, "input")
    # A zero weight drops the position features altogether (colour-only clustering).
    features = "color+position" if args.position_weight > 0 else "color"
    labels = _call(options, segment, image, method=args.method.replace("-", "_"), features=features, k=args.k,
                   bandwidth=args.bandwidth, position_weight=args.position_weight, rng=0)
    out = label_to_rgb(labels, image)
    _write(args, mark_boundaries(out, labels) if args.boundaries else out)
    return f"{labels.max() + 1} segments"


def _pattern(text):
    """argparse type of ``--pattern``: ``COLSxROWS`` inner corners, each >= 2."""
    match = re.fullmatch(r"(\d+)[xX](\d+)", text.strip())
    if match is None or min(int(match.group(1)), int(match.group(2))) < 2:
        raise argparse.ArgumentTypeError(f"must be COLSxROWS inner corners, each >= 2 (e.g. 9x6), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def build_parser():
    parser = ArgumentParser(prog="python -m classic_cv", description=__doc__,
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
    p.add_argument("--sigma", type=_option(low=0, high=MAX_SIGMA), default=1.0, help="Gaussian smoothing (default 1)")
    p.add_argument("--low", type=_option(), default=None, help="low threshold (default 0.1)")
    p.add_argument("--high", type=_option(), default=None, help="high threshold (default 0.2)")
    p.add_argument("--quantiles", action="store_true", help="thresholds are quantiles of the gradient magnitude")
    p.add_argument("--overlay", action="store_true", help="draw edges in red over the input")

    p = command("harris", _harris, "Harris (or Shi-Tomasi) corners drawn as circles")
    p.add_argument("--sigma", type=_option(low=0, high=MAX_SIGMA), default=1.0,
                   help="structure tensor window (default 1)")
    p.add_argument("--k", type=_option(low=0, high=0.25), default=0.05, help="Harris sensitivity (default 0.05)")
    p.add_argument("--shi-tomasi", action="store_true", help="min-eigenvalue response instead of Harris")
    p.add_argument("--min-distance", type=_option(int, low=1), default=5,
                   help="minimum corner spacing in px (default 5)")
    p.add_argument("--threshold-rel", type=_option(low=0, high=1), default=0.01,
                   help="relative response threshold (default 0.01)")
    p.add_argument("--num-peaks", type=_option(int, low=1), default=None, help="at most this many corners")
    p.add_argument("--radius", type=_option(low=0, low_open=True), default=4, help="drawn circle radius")

    p = command("hough", _hough, "Hough lines, probabilistic segments or circles on Canny edges")
    p.add_argument("--shape", choices=("lines", "segments", "circles"), default="lines")
    p.add_argument("--sigma", type=_option(low=0, high=MAX_SIGMA), default=2.0, help="Canny smoothing (default 2)")
    p.add_argument("--threshold", type=_option(), default=None, help="accumulator threshold (default half the max)")
    p.add_argument("--num-peaks", type=_option(int, low=1), default=10,
                   help="at most this many lines/circles (default 10)")
    p.add_argument("--radii", type=_option(int, low=1), nargs=2, default=(10, 50), metavar=("MIN", "MAX"),
                   help="circle radii in px")
    p.add_argument("--line-length", type=_option(low=0, low_open=True), default=50,
                   help="minimum segment length (default 50)")
    p.add_argument("--line-gap", type=_option(int, low=0), default=5, help="largest gap inside a segment (default 5)")

    p = command("sift", _sift, "SIFT keypoints of one image, or matches between two", second_input="optional")
    p.add_argument("--ratio", type=_option(low=0, low_open=True, high=1), default=0.75,
                   help="Lowe's ratio test (default 0.75)")
    p.add_argument("--cross-check", action="store_true", help="keep only mutual nearest neighbours")
    p.add_argument("--magnify", type=_option(low=0, low_open=True), default=3.0,
                   help="one image: keypoint circle radius in units of its sigma (default 3)")

    p = command("seam-carve", _seam_carve, "content-aware resize by seam carving")
    p.add_argument("--width", type=_option(int, low=1), default=None, help="output width (default unchanged)")
    p.add_argument("--height", type=_option(int, low=1), default=None, help="output height (default unchanged)")
    p.add_argument("--energy", choices=("backward", "forward"), default="backward")

    p = command("stitch", _stitch, "two-image panorama (SIFT + RANSAC homography + warp)", second_input="required")
    p.add_argument("--ratio", type=_option(low=0, low_open=True, high=1), default=0.75,
                   help="Lowe's ratio test (default 0.75)")

    p = command("stereo", _stereo, "disparity map of a rectified pair, in colour with a colour bar (invalid: black)",
                second_input="required")
    p.add_argument("--method", choices=("bm", "sgm"), default="sgm",
                   help="block matching or semi-global matching (default sgm)")
    p.add_argument("--max-disparity", type=_option(int, low=1), default=64,
                   help="largest disparity searched, in px (default 64)")
    p.add_argument("--window", type=_option(int, low=1), default=None,
                   help="odd matching window side in px (default 9 for bm, 5 for sgm)")

    p = command("flow", _flow, "dense optical flow from the first frame to the second, drawn on the "
                "Middlebury colour wheel (hue: direction, saturation: length)", second_input="required")
    p.add_argument("--method", choices=("lk", "hs"), default="lk",
                   help="pyramidal Lucas-Kanade or Horn-Schunck (default lk)")
    p.add_argument("--window", type=_option(int, low=3), default=15, help="odd Lucas-Kanade window side (default 15)")
    p.add_argument("--alpha", type=_option(low=0, low_open=True), default=0.1,
                   help="Horn-Schunck smoothness weight (default 0.1)")
    p.add_argument("--iterations", type=_option(int, low=1), default=None,
                   help="solves per pyramid level (default 10 for lk, 100 sweeps for hs)")
    p.add_argument("--levels", type=_option(int, low=1), default=None,
                   help="pyramid levels (default: down to a 16 px side)")
    p.add_argument("--max-flow", type=_option(low=0, low_open=True), default=None,
                   help="flow length drawn fully saturated, in px (default the longest vector)")

    p = command("segment", _segment, "segmentation by clustering pixels (k-means or mean shift), each segment "
                "painted with its mean colour")
    p.add_argument("--method", choices=("kmeans", "mean-shift"), default="kmeans",
                   help="k-means into --k segments, or mean shift with window --bandwidth (default kmeans)")
    p.add_argument("--k", type=_option(int, low=1), default=8, help="k-means segments (default 8)")
    p.add_argument("--bandwidth", type=_option(low=0, low_open=True), default=0.1,
                   help="mean-shift window, in colour units of [0, 1] (default 0.1)")
    p.add_argument("--position-weight", type=_option(low=0), default=0.0,
                   help="span of pixel positions across the longer side, against colours in [0, 1]; "
                   "0 clusters colours only (default 0)")
    p.add_argument("--boundaries", action="store_true", help="draw segment borders in yellow")

    # Several inputs, so not command(): VIEW [VIEW ...] OUT.
    about = "camera intrinsics and radial distortion from checkerboard views (Zhang's method)"
    p = sub.add_parser("calibrate", help=about, description=about + "; draws the first view's found (green) and "
                       "reprojected (red) corners")
    p.add_argument("views", nargs="+", metavar="VIEW", help="checkerboard image files (at least 2 views)")
    p.add_argument("output", help="output image file (format from the extension)")
    p.add_argument("--pattern", type=_pattern, required=True, metavar="COLSxROWS",
                   help="inner corners per row and per column, e.g. 9x6 for a board of 10x7 squares")
    p.add_argument("--square", type=_option(low=0, low_open=True), default=1.0,
                   help="side of a square, the unit of the translations (default 1)")
    p.add_argument("--window", type=_option(int, low=2), default=5,
                   help="corner window half-size in px; squares must be wider than twice it (default 5)")
    p.set_defaults(run=_calibrate)
    return parser


def main(argv=None):
    """Run one command; returns the exit code (2 for a bad option, file or image)."""
    args = build_parser().parse_args(argv)
    try:
        _check_output(args.output)
        summary = args.run(args)
    except (UsageError, ValueError, TypeError) as exc:
        # Library errors name the function and argument ("sift: image must be ..."):
        # the images they refer to are this command's input files.
        print(f"python -m classic_cv {args.command}: error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.command}: {summary} -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""PNG plots for the course scripts.

Figures are built with matplotlib's object API and the Agg canvas, never
``pyplot``, so importing this module changes no global backend state and works
without a display.
"""
import numpy as np


def _figure(width=6.0, height=4.0):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def curves(path, series, xlabel, ylabel, title=""):
    """Line plot of several named series.

    Parameters
    ----------
    path : str
        PNG file to write.
    series : dict
        label -> y values (x = 1, 2, ...) or an ``(x, y)`` pair.
    """
    fig = _figure()
    ax = fig.add_subplot()
    for label, values in series.items():
        x, y = values if isinstance(values, tuple) else (np.arange(1, len(values) + 1), values)
        ax.plot(x, y, label=label, marker="." if len(y) < 40 else None)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(path)
    return path


def cross_validation(path, values, fold_scores, xlabel, ylabel="accuracy", title=""):
    """Scatter every fold's score per hyper-parameter value, with mean ± std error bars.

    Parameters
    ----------
    values : (K,) hyper-parameter values
    fold_scores : (K, folds) scores
    """
    fold_scores = np.asarray(fold_scores)
    fig = _figure()
    ax = fig.add_subplot()
    for v, scores in zip(values, fold_scores):
        ax.scatter(np.full(len(scores), v), scores, s=10, color="0.6")
    ax.errorbar(values, fold_scores.mean(axis=1), yerr=fold_scores.std(axis=1), marker="o", capsize=3)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    fig.savefig(path)
    return path


def image_grid(path, images, titles=None, ncols=10, title=""):
    """Tile images, each rescaled to its own [min, max] (how CS231n shows learned weights).

    Parameters
    ----------
    images : (N, C, H, W) with C in {1, 3}, or (N, H, W)
    titles : sequence of N str, optional
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 4:
        images = images[:, 0] if images.shape[1] == 1 else images.transpose(0, 2, 3, 1)
    n = len(images)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig = _figure(1.3 * ncols, 1.4 * nrows + (0.3 if title else 0))
    for i, image in enumerate(images):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        low, high = image.min(), image.max()
        ax.imshow((image - low) / max(high - low, 1e-12), cmap="gray" if image.ndim == 2 else None)
        ax.set_axis_off()
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.savefig(path)
    return path


def search(path, x, y, scores, xlabel, ylabel, score_label):
    """Random-search results: one dot per trial at (x, y) on log axes, coloured by score."""
    fig = _figure()
    ax = fig.add_subplot()
    dots = ax.scatter(x, y, c=scores, s=60, cmap="viridis")
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel)
    fig.colorbar(dots, ax=ax, label=score_label)
    fig.savefig(path)
    return path


def scenes(path, images, masks, boxes, labels, num_classes, ncols=6, title=""):
    """Scenes in pairs of rows: each image with its boxes and digits drawn on it, and
    below it its label mask (background black, one colour per class).

    Parameters
    ----------
    images : (N, 1, H, W) or (N, H, W)
    masks : (N, H, W) int labels in [0, num_classes)
    boxes : N arrays (K, 4) of (x1, y1, x2, y2) pixel boxes (x2, y2 exclusive)
    labels : N arrays (K,) of the class drawn beside each box
    """
    from matplotlib.patches import Rectangle

    images = np.asarray(images)
    images = images[:, 0] if images.ndim == 4 else images
    n = len(images)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig = _figure(1.6 * ncols, 3.2 * nrows + (0.3 if title else 0))
    palette = _class_palette(num_classes)
    for i in range(n):
        ax = fig.add_subplot(2 * nrows, ncols, (2 * (i // ncols)) * ncols + i % ncols + 1)
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=1)
        for (x1, y1, x2, y2), label in zip(boxes[i], labels[i]):
            # Pixel x covers [x - 0.5, x + 0.5] in imshow's coordinates.
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, lw=1.2,
                                   color=palette[1 + label]))
            ax.text(x1 - 0.5, y1 - 1.5, str(label), color=palette[1 + label], fontsize=8)
        ax.set_axis_off()
        ax = fig.add_subplot(2 * nrows, ncols, (2 * (i // ncols) + 1) * ncols + i % ncols + 1)
        ax.imshow(palette[masks[i]])
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.savefig(path)
    return path


def _class_palette(num_classes):
    """(num_classes, 3) RGB colours: black for class 0 (the background), tab10 for the rest."""
    from matplotlib import colormaps

    colours = colormaps["tab10"].resampled(max(num_classes - 1, 1))
    return np.vstack([[0.0, 0.0, 0.0], colours(np.arange(num_classes - 1))[:, :3]])


def segmentation(path, images, truth, predicted, num_classes, title=""):
    """Three rows: the images, their true label masks and the predicted ones.

    Parameters
    ----------
    images : (N, 1, H, W) or (N, H, W)
    truth, predicted : (N, H, W) int labels in [0, num_classes); 0 (background) is black
    """
    images = np.asarray(images)
    images = images[:, 0] if images.ndim == 4 else images
    palette = _class_palette(num_classes)
    n = len(images)
    fig = _figure(1.5 * n, 4.8 + (0.3 if title else 0))
    for row, (name, pictures) in enumerate((("scene", images), ("truth", palette[truth]),
                                            ("predicted", palette[predicted]))):
        for i in range(n):
            ax = fig.add_subplot(3, n, row * n + i + 1)
            ax.imshow(pictures[i], cmap="gray" if row == 0 else None, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_ylabel(name)
    if title:
        fig.suptitle(title)
    fig.savefig(path)
    return path


def confusion(path, matrix, class_names, title=""):
    """A confusion matrix (rows: true class, columns: predicted), each row normalised to
    fractions so that rare classes are as readable as common ones."""
    matrix = np.asarray(matrix, dtype=np.float64)
    fractions = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig = _figure(6.0, 5.2)
    ax = fig.add_subplot()
    shown = ax.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(class_names))
    ax.set(xticks=ticks, yticks=ticks, xticklabels=class_names, yticklabels=class_names,
           xlabel="predicted", ylabel="true", title=title)
    for (i, j), value in np.ndenumerate(fractions):
        if value >= 0.005:
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6,
                    color="white" if value > 0.5 else "black")
    fig.colorbar(shown, ax=ax, label="fraction of the true class's pixels")
    fig.savefig(path)
    return path


def detections(path, images, truths, found, num_classes, title=""):
    """Scenes with their true boxes (white) and the detected ones (one colour per class,
    labelled with class and score).

    Parameters
    ----------
    images : (N, 1, H, W) or (N, H, W)
    truths : N mappings with 'boxes' (K, 4) xyxy
    found : N mappings with 'boxes' (D, 4) xyxy, 'scores' (D,), 'classes' (D,)
    """
    from matplotlib.patches import Rectangle

    images = np.asarray(images)
    images = images[:, 0] if images.ndim == 4 else images
    palette = _class_palette(num_classes + 1)[1:]  # no background among detected classes
    n = len(images)
    ncols = min(n, 4)
    nrows = -(-n // ncols)
    fig = _figure(2.6 * ncols, 2.6 * nrows + (0.3 if title else 0))
    for i in range(n):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=1)
        for x1, y1, x2, y2 in truths[i]["boxes"]:
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, lw=2.5, color="white"))
        for (x1, y1, x2, y2), score, label in zip(found[i]["boxes"], found[i]["scores"], found[i]["classes"]):
            colour = palette[label]
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, lw=1.0, color=colour))
            ax.text(x1 - 0.5, y1 - 1.0, f"{label} {score:.2f}", color=colour, fontsize=6)
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.savefig(path)
    return path


def precision_recall(path, curves, title=""):
    """One precision-recall curve per class: ``curves`` maps a class id to (precision, recall)."""
    fig = _figure()
    ax = fig.add_subplot()
    for label, (precision, recall) in sorted(curves.items()):
        ax.plot(np.r_[0.0, recall], np.r_[1.0, precision], label=str(label))
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02), title=title)
    ax.grid(alpha=0.3)
    ax.legend(ncols=2, fontsize=7, title="class")
    fig.savefig(path)
    return path

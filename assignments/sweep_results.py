"""A finished sweep's outputs: the trial table (printed, CSV, JSON), its plots and ``best.json``.

Works on plain dicts, one per trial (``sweep.trials_of`` makes them from
Ray Tune's results)::

    {"trial": "a1b2c3", "config": {"lr": 0.01, ...}, "metrics": {...last report...},
     "history": {"epoch": [1, 2], "val_accuracy": [0.8, 0.85], ...}, "error": None}
"""
import csv
import json
import math
import os

from . import plots
from . import search_space as spaces

CURVES = ("train_accuracy", "val_accuracy", "val_loss")  # what the scripts report per epoch


def write(settings, trials):
    """Print the table and write every output of the sweep into its folder; return the rows."""
    folder, metric = settings["folder"], settings["metric"]
    space = {k: spaces.distribution(v) for k, v in settings["space"].items()}
    searched = [k for k, d in space.items() if d.kind != "fixed"]
    rows = table(trials, searched, metric, settings["mode"])
    print(format_table(rows))
    written = [write_csv(os.path.join(folder, "results.csv"), rows),
               write_json(os.path.join(folder, "results.json"), rows)]
    axes = [k for k in searched if space[k].log and space[k].numeric][:2]
    if len(axes) == 2 and rows:
        written.append(plots.search(os.path.join(folder, "search.png"), [r[axes[0]] for r in rows],
                                    [r[axes[1]] for r in rows], [_nan(r[metric]) for r in rows],
                                    axes[0], axes[1], metric))
    else:
        print(f"no search.png: it needs two log-scaled hyper-parameters (loguniform, lograndint), got {axes}")
    best = next((t for t in _ranked(trials, metric, settings["mode"]) if _finite(t["metrics"].get(metric))), None)
    if best is None:
        print(f"no trial reported a finite {metric}: no best.json")
    else:
        written.append(write_best(os.path.join(folder, "best.json"), settings, best))
        history = best["history"]
        # A series reported at every epoch (not only among the final metrics).
        curves = {k: (history["epoch"], history[k]) for k in CURVES
                  if "epoch" in history and k in history and all(_finite(v) for v in history[k])}
        if curves:
            written.append(plots.curves(os.path.join(folder, "best_curves.png"), curves, "epoch", "metric",
                                        f"best trial {best['trial']}: {metric} {best['metrics'][metric]:.4g}"))
    print("wrote:")
    for path in written:
        print(f"  {path}")
    return rows


def table(trials, searched, metric, mode):
    """One row per trial, best first: id, the searched settings, the metric, epochs run, status."""
    rows = []
    for t in _ranked(trials, metric, mode):
        m = t["metrics"]
        status = ("error" if t["error"] else "diverged" if m.get("diverged") else
                  "done" if m.get("completed") else "stopped early")
        rows.append({"trial": t["trial"], **{k: t["config"].get(k) for k in searched},
                     metric: m.get(metric), "epochs": m.get("epoch"), "status": status})
    return rows


def format_table(rows):
    """The rows as aligned text columns."""
    if not rows:
        return "(no trials)"
    columns = list(rows[0])
    cells = [columns] + [[_cell(r[c]) for c in columns] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join("  ".join(text.ljust(w) for text, w in zip(line, widths)).rstrip() for line in cells)


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["trial"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_json(path, rows):
    with open(path, "w") as f:
        json.dump([{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
                   for r in rows], f, indent=2)
    return path


def write_best(path, settings, best):
    """``best.json``: everything ``run NAME --config best.json`` needs to repeat the best trial."""
    config = {"script": settings["script"], **settings["base"]}
    for item in settings["options"]:
        key, _, value = item.partition("=")
        config[key] = value
    config.update(best["config"])
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    return path


def _ranked(trials, metric, mode):
    """Trials best first by ``metric`` (ties in trial order); those without a finite value last."""
    def key(t):
        value = t["metrics"].get(metric)
        return (0, -value if mode == "max" else value, t["trial"]) if _finite(value) else (1, 0, t["trial"])
    return sorted(trials, key=key)


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _nan(value):
    return value if _finite(value) else math.nan


def _cell(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)

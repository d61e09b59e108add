"""Threshold curves (paper 003, Table 2): one-vs-rest IoU, precision and recall against the threshold."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from hookseg.evaluate.counts import Counts
from hookseg.evaluate.scores import threshold_sweep
from hookseg.io import atomic_path


def write_threshold_curves(
    total: Counts, class_names: Sequence[str], folder: Path, cohort: str,
) -> list[Path]:
    """A CSV (for ``dvc plots``) and a PNG per non-background class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for cls, name in enumerate(class_names):
        if cls == 0:
            continue
        sweep = threshold_sweep(total, cls)
        csv_path = folder / f"threshold_{cohort}_{name}.csv"
        _write_csv(csv_path, sweep)
        fig, ax = plt.subplots(figsize=(4.5, 3.2), dpi=110)
        for metric in ("iou", "precision", "recall"):
            ax.plot(sweep["threshold"], sweep[metric], marker="o", label=metric)
        ax.set(xlabel="threshold", ylim=(0, 1), title=f"{name} vs rest ({cohort})")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
        fig.tight_layout()
        png = folder / f"threshold_{cohort}_{name}.png"
        with atomic_path(png) as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)
        written += [csv_path, png]
    return written


def _write_csv(path: Path, columns: Mapping[str, list]) -> None:
    names = list(columns)
    with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(names)
        writer.writerows(zip(*(columns[n] for n in names), strict=True))

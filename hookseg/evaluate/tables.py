"""Per class x stain / scanner / source tables with bootstrap CIs; never-seen domains reported apart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce
from typing import Any

import numpy as np

from hookseg.evaluate.counts import Counts
from hookseg.evaluate.paired import Bootstrap, iou_estimates
from hookseg.evaluate.scores import class_scores, scores_table

GROUPS = ("stain", "scanner", "source")


def pooled(counts: Sequence[Counts]) -> Counts:
    return reduce(lambda a, b: a + b, counts)


def group_rows(
    slides: Mapping[str, Counts], tags: Mapping[str, Mapping[str, str]], class_names: Sequence[str],
    *, cohort: str, samples: int = 1000,
) -> list[dict[str, Any]]:
    """One row per (grouping, value, class) plus the cohort-wide rows (grouping "all")."""
    rows = []
    groupings = [("all", "all")] + sorted({(g, tags[s][g]) for s in slides for g in GROUPS})
    for group, value in groupings:
        members = [s for s in slides if group == "all" or tags[s][group] == value]
        counts = [slides[s] for s in members]
        total = pooled(counts)
        raw = total.raw()
        interval, _ = iou_estimates(np.stack([c.confusion for c in counts]), Bootstrap(samples=samples))
        for cls, name in enumerate(class_names):
            scores = class_scores(total, cls)
            low, high = float(interval.low[cls]), float(interval.high[cls])
            rows.append({"cohort": cohort, "group": group, "value": value, "slides": len(members),
                         "class": name,
                         **{k: round(v, 4) for k, v in scores.items()},
                         "iou_ci_low": round(low, 4), "iou_ci_high": round(high, 4),
                         "iou_raw": round(class_scores(raw, cls)["iou"], 4)})
    return rows


def mlflow_metrics(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """``iou.tumour.stain.HER2``-style names (cohort-wide rows: ``iou.tumour.test``)."""
    metrics = {}
    for row in rows:
        for metric in ("iou", "iou_raw", "dice", "auc"):
            value = row[metric]
            if value != value:  # nan
                continue
            if row["group"] == "all":
                name = f"{metric}.{row['class']}.{row['cohort']}"
            else:
                name = f"{metric}.{row['class']}.{row['cohort']}.{row['group']}.{row['value']}"
            metrics[name.replace(" ", "_")] = float(value)
    return metrics


def summary(total: Counts, class_names: Sequence[str]) -> dict[str, Any]:
    """Pooled scores per class; ``mean_iou_raw`` and each class's ``iou_raw``: before post-processing."""
    table = scores_table(total, class_names)
    raw = scores_table(total.raw(), class_names)
    per_class = {name: {**{k: round(v, 4) for k, v in table[name].items()},
                        "iou_raw": round(raw[name]["iou"], 4)} for name in class_names}
    return {"mean_iou": round(table["mean"]["iou"], 4), "mean_iou_raw": round(raw["mean"]["iou"], 4),
            **per_class}

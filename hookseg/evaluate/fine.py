"""Where each fine ground-truth label went: a class's IoU says "other" is missed, these rows say which part.

Fine labels (DCIS, duct, vessel, blur, pen, ...) are clubbed into model classes for training and scoring;
a slide with a full ground-truth raster also counts, per fine label, the final labels its pixels got
(``Counts.fine``). Here those counts become shares: of a fine label's pixels, the share labelled each class,
and its recall (the share labelled the class it clubs into). Pooled over slides, like the IoU tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

IGNORE = "ignore"


def fine_classes(names: Sequence[str], class_map) -> dict[str, str]:
    """Fine label name -> the class name it clubs into (``ignore`` for labels scored nowhere)."""
    return {name: class_map.club_name(name) for name in names}


def fine_rows(
    fine: Mapping[str, np.ndarray], classes_of: Mapping[str, str], class_names: Sequence[str],
) -> list[dict[str, Any]]:
    """One row per scored fine label, ordered by class then name: pixels, share as each class, recall."""
    rows = []
    order = {name: i for i, name in enumerate(class_names)}
    for name in sorted(fine, key=lambda n: (order.get(classes_of.get(n, IGNORE), len(order)), n)):
        target = classes_of.get(name, IGNORE)
        counts = np.asarray(fine[name], np.float64)
        total = counts.sum()
        if target not in order or total == 0:
            continue  # an ignored label is scored by no class; its shares would mean nothing
        shares = counts / total
        rows.append({"label": name, "class": target, "pixels": int(total),
                     **{f"as_{c}": round(float(shares[i]), 4) for i, c in enumerate(class_names)},
                     "recall": round(float(shares[order[target]]), 4)})
    return rows


def recall_by_label(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """``{label: recall}``: the DVC-metric form of ``fine_rows``."""
    return {row["label"]: row["recall"] for row in rows}


def fine_markdown(rows: Sequence[Mapping[str, Any]], class_names: Sequence[str]) -> list[str]:
    """A table of ``fine_rows``: a person reads which fine labels a class loses, and to what."""
    header = "| fine label | class | pixels | " + " | ".join(f"as {c}" for c in class_names) + " | recall |"
    lines = [header, "|---|---|---|" + "---|" * len(class_names) + "---|"]
    for row in rows:
        cells = [row["label"], row["class"], str(row["pixels"]),
                 *(f"{row[f'as_{c}']:.3f}" for c in class_names), f"{row['recall']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines

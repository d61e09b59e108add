"""How good are the pseudo-labels? Precision and coverage per class and per fine label, against what is known.

Two kinds of knowledge, counted while a slide is labelled and summed over slides:

- ``truth``: a full ground-truth raster of fine codes (the demo cohort has one). Counted on the pixels the
  model labelled (manual annotations excluded, they are right by definition): fine code x pseudo label.
- ``held_out``: manual annotations the labelling model did not train on (the val split's). Counted on the
  annotated pixels before "manual wins" overwrites them: annotated class x what the model said there.

Precision of class c: of the pixels labelled c, the share that truly are c. Coverage of class c: of the pixels
that truly are c, the share that got any label (not ignore). Recall: the share labelled c. The per fine label
rows say where e.g. DCIS went: to tumour, to other, or ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FINE_CODES = 256  # label rasters are uint8


@dataclass
class QualityCounts:
    """Mergeable counts; column ``num_classes`` of each matrix is the ignore id (no label)."""

    num_classes: int
    ignore_id: int
    truth: np.ndarray = field(default=None)  # type: ignore[assignment]  (FINE_CODES, C + 1)
    held_out: np.ndarray = field(default=None)  # type: ignore[assignment]  (C, C + 1)

    def __post_init__(self) -> None:
        width = self.num_classes + 1
        if self.truth is None:
            self.truth = np.zeros((FINE_CODES, width), np.int64)
        if self.held_out is None:
            self.held_out = np.zeros((self.num_classes, width), np.int64)

    def _columns(self, labels: np.ndarray) -> np.ndarray:
        """Label ids -> matrix columns: classes keep their id, ignore (and anything else) goes last."""
        labels = labels.astype(np.int64)
        return np.where(labels < self.num_classes, labels, self.num_classes)

    def add_truth(self, pseudo: np.ndarray, fine_truth: np.ndarray, model_made: np.ndarray) -> None:
        """Count pseudo labels against fine truth codes where the model (not an annotator) labelled."""
        cols = self._columns(pseudo[model_made])
        rows = fine_truth[model_made].astype(np.int64)
        width = self.num_classes + 1
        flat = np.bincount(rows * width + cols, minlength=FINE_CODES * width)
        self.truth += flat.reshape(FINE_CODES, width)

    def add_held_out(self, model_labels: np.ndarray, annotation: np.ndarray) -> None:
        """Count what the model said on annotated pixels (annotation classes; ignore pixels skipped)."""
        annotated = annotation < self.num_classes
        rows = annotation[annotated].astype(np.int64)
        cols = self._columns(model_labels[annotated])
        width = self.num_classes + 1
        self.held_out += np.bincount(rows * width + cols, minlength=self.num_classes * width).reshape(
            self.num_classes, width)

    def merge(self, other: QualityCounts) -> QualityCounts:
        return QualityCounts(self.num_classes, self.ignore_id, self.truth + other.truth,
                             self.held_out + other.held_out)

    def to_json(self) -> dict[str, Any]:
        """Sparse JSON (fine codes that occur only), so per-slide summaries stay small."""
        rows = np.flatnonzero(self.truth.sum(axis=1))
        return {
            "num_classes": self.num_classes,
            "ignore_id": self.ignore_id,
            "truth": {str(int(r)): self.truth[r].tolist() for r in rows},
            "held_out": self.held_out.tolist(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QualityCounts:
        counts = cls(int(data["num_classes"]), int(data["ignore_id"]))
        for code, row in data.get("truth", {}).items():
            counts.truth[int(code)] = row
        counts.held_out[:] = np.asarray(data["held_out"], np.int64).reshape(counts.held_out.shape)
        return counts


def fine_tables(ground_truth: Path, class_map: Any) -> tuple[np.ndarray, dict[int, str]]:
    """For a ground-truth raster: fine code -> class id (the class map's clubbing) and fine code -> name."""
    from hookseg.annotations.label_mask import read_codes
    from hookseg.evaluate.truth import code_lut, code_table_for

    table = code_table_for(Path(ground_truth))
    return code_lut(table, class_map), {code: name for code, (name, _) in read_codes(table).items()}


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


def class_scores(matrix: np.ndarray, class_names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per class precision, coverage and recall from a (C, C + 1) truth-class x label matrix."""
    num_classes = len(class_names)
    labelled_as = matrix[:, :num_classes].sum(axis=0)
    scores = {}
    for c, name in enumerate(class_names):
        truly = matrix[c].sum()
        scores[name] = {
            "precision": _ratio(matrix[c, c], labelled_as[c]),
            "coverage": _ratio(truly - matrix[c, num_classes], truly),
            "recall": _ratio(matrix[c, c], truly),
            "labelled_pixels": int(labelled_as[c]),
            "true_pixels": int(truly),
        }
    return scores


def summarise(
    counts: QualityCounts, class_names: Sequence[str], fine_lut: np.ndarray | None = None,
    fine_names: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """Report: per class on the truth (fine codes clubbed by ``fine_lut``), per fine label, and held out."""
    num_classes = counts.num_classes
    report: dict[str, Any] = {}
    if fine_lut is not None and counts.truth.any():
        clubbed = np.zeros((num_classes, num_classes + 1), np.int64)
        for code in np.flatnonzero(counts.truth.sum(axis=1)):
            target = int(fine_lut[code])
            if target < num_classes:
                clubbed[target] += counts.truth[code]
        report["truth"] = class_scores(clubbed, class_names)
        fine: dict[str, dict[str, Any]] = {}
        for code in np.flatnonzero(counts.truth.sum(axis=1)):
            row = counts.truth[code]
            total = row.sum()
            name = (fine_names or {}).get(int(code), str(int(code)))
            target = int(fine_lut[code])
            fine[name] = {
                "class": class_names[target] if target < num_classes else "ignore",
                "pixels": int(total),
                "ignored": float(row[num_classes] / total),
                **{f"as_{class_names[c]}": float(row[c] / total) for c in range(num_classes)},
            }
        report["fine"] = fine
    if counts.held_out.any():
        report["held_out"] = class_scores(counts.held_out, class_names)
    return report


def flat_metrics(report: Mapping[str, Any], prefix: str = "pseudo") -> dict[str, float]:
    """``pseudo.truth.tumour.precision``-style scalars for DVC metrics and MLflow (None dropped)."""
    flat = {}
    for source in ("truth", "held_out"):
        for name, scores in report.get(source, {}).items():
            for key in ("precision", "coverage", "recall"):
                if scores.get(key) is not None:
                    flat[f"{prefix}.{source}.{name}.{key}"] = round(float(scores[key]), 4)
    for name, row in report.get("fine", {}).items():
        for key, value in row.items():
            if key == "ignored" or key.startswith("as_"):
                flat[f"{prefix}.fine.{name}.{key}"] = round(float(value), 4)
    return flat

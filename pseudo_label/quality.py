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


def truth_by_class(counts: QualityCounts, fine_lut: np.ndarray) -> np.ndarray:
    """(C, C + 1) true class x label matrix: the fine codes clubbed into classes (unknown codes dropped)."""
    num_classes = counts.num_classes
    clubbed = np.zeros((num_classes, num_classes + 1), np.int64)
    for code in np.flatnonzero(counts.truth.sum(axis=1)):
        target = int(fine_lut[code])
        if target < num_classes:
            clubbed[target] += counts.truth[code]
    return clubbed


def truth_by_fine(counts: QualityCounts, fine_lut: np.ndarray, fine_names: Mapping[int, str] | None = None,
                  ) -> dict[str, tuple[int, np.ndarray]]:
    """Fine label name -> (its class id, its (C + 1) label counts)."""
    return {(fine_names or {}).get(int(code), str(int(code))): (int(fine_lut[code]), counts.truth[code])
            for code in np.flatnonzero(counts.truth.sum(axis=1))}


@dataclass
class CohortQuality:
    """Quality over slides: class matrices and fine rows summed, each slide clubbed by its own table."""

    class_names: Sequence[str]
    truth: np.ndarray = field(default=None)  # type: ignore[assignment]
    held_out: np.ndarray = field(default=None)  # type: ignore[assignment]
    fine: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict)
    slides_with_truth: int = 0
    slides_held_out: int = 0

    def __post_init__(self) -> None:
        shape = (len(self.class_names), len(self.class_names) + 1)
        self.truth = np.zeros(shape, np.int64) if self.truth is None else self.truth
        self.held_out = np.zeros(shape, np.int64) if self.held_out is None else self.held_out

    def add(self, counts: QualityCounts, fine_lut: np.ndarray | None = None,
            fine_names: Mapping[int, str] | None = None) -> None:
        if fine_lut is not None and counts.truth.any():
            self.truth += truth_by_class(counts, fine_lut)
            for name, (target, row) in truth_by_fine(counts, fine_lut, fine_names).items():
                _, total = self.fine.get(name, (target, np.zeros_like(row)))
                self.fine[name] = (target, total + row)
            self.slides_with_truth += 1
        if counts.held_out.any():
            self.held_out += counts.held_out
            self.slides_held_out += 1

    def report(self) -> dict[str, Any]:
        """Per class on the truth and on held-out annotations, and where each fine label went."""
        names = list(self.class_names)
        num_classes = len(names)
        report: dict[str, Any] = {"slides_with_truth": self.slides_with_truth,
                                  "slides_held_out": self.slides_held_out}
        if self.truth.any():
            report["truth"] = class_scores(self.truth, names)
            report["fine"] = {
                name: {
                    "class": names[target] if target < num_classes else "ignore",
                    "pixels": int(row.sum()),
                    "ignored": float(row[num_classes] / row.sum()),
                    **{f"as_{names[c]}": float(row[c] / row.sum()) for c in range(num_classes)},
                }
                for name, (target, row) in sorted(self.fine.items())
            }
        if self.held_out.any():
            report["held_out"] = class_scores(self.held_out, names)
        return report


def summarise(
    counts: QualityCounts, class_names: Sequence[str], fine_lut: np.ndarray | None = None,
    fine_names: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """One slide's (or one merged count's) report; see ``CohortQuality.report``."""
    cohort = CohortQuality(class_names)
    cohort.add(counts, fine_lut, fine_names)
    return cohort.report()


def markdown(report: Mapping[str, Any]) -> str:
    """Tables a person reads: per class precision / coverage / recall, and where each fine label went."""
    lines = []
    for source, title in (("truth", "against the full ground truth (model-made pixels)"),
                          ("held_out", "against held-out annotations (val split, before manual-wins)")):
        if source not in report:
            continue
        lines += [f"Pseudo-labels {title}:", "", "| class | precision | coverage | recall | labelled px |",
                  "|---|---|---|---|---|"]
        for name, s in report[source].items():
            cells = [f"{s[k]:.3f}" if s[k] is not None else "-" for k in ("precision", "coverage", "recall")]
            lines.append(f"| {name} | {' | '.join(cells)} | {s['labelled_pixels']} |")
        lines.append("")
    if "fine" in report:
        classes = [k[3:] for k in next(iter(report["fine"].values())) if k.startswith("as_")]
        lines += ["Where each fine label went (share of its model-labelled pixels):", "",
                  "| fine label | class | " + " | ".join(f"as {c}" for c in classes) + " | ignored |",
                  "|---|---|" + "---|" * (len(classes) + 1)]
        for name, row in report["fine"].items():
            cells = [f"{row['as_' + c]:.2f}" for c in classes]
            lines.append(f"| {name} | {row['class']} | {' | '.join(cells)} | {row['ignored']:.2f} |")
        lines.append("")
    return "\n".join(lines)


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

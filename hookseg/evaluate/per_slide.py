"""``slides.json``: every scored slide's confusions (final and before post-processing), cohort and tags.

``hookseg evaluate`` writes it beside ``metrics.json``; ``hookseg report`` reads one per model and resamples
slides across models (a paired bootstrap needs the slides, not pooled scores). IoU needs only confusions,
so the probability histograms stay in each prediction's ``counts.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path

import numpy as np

from hookseg.errors import ConfigError
from hookseg.evaluate.counts import Counts, merge_fine
from hookseg.io import write_json

SLIDES_FILE = "slides.json"
TAGS = ("stain", "scanner", "source")


@dataclass(frozen=True)
class SlideSet:
    """One model's scored slides, in a fixed order: arrays are indexed like ``ids``."""

    classes: tuple[str, ...]
    ids: tuple[str, ...]
    cohorts: tuple[str, ...]
    tags: tuple[Mapping[str, str], ...]
    confusion: np.ndarray  # (n, C, C) int64, rows = truth
    raw_confusion: np.ndarray  # (n, C, C) int64, labels before post-processing
    fine: tuple[Mapping[str, np.ndarray], ...] = ()  # per slide: fine label -> (C,) final labels ({}: none)
    fine_classes: Mapping[str, str] = field(default_factory=dict)  # fine label -> the class it clubs into

    def select(self, ids: Sequence[str]) -> SlideSet:
        """The given slides, in the given order (paired resampling relies on the order)."""
        where = {s: i for i, s in enumerate(self.ids)}
        idx = np.asarray([where[s] for s in ids], np.int64)
        fine = tuple(self.fine[i] for i in idx) if self.fine else ()
        return SlideSet(self.classes, tuple(ids), tuple(self.cohorts[i] for i in idx),
                        tuple(self.tags[i] for i in idx), self.confusion[idx], self.raw_confusion[idx],
                        fine, self.fine_classes)

    def pooled_fine(self) -> dict[str, np.ndarray]:
        """Fine label -> (C,) final labels summed over these slides ({} when none has fine counts)."""
        return reduce(merge_fine, self.fine, {})

    def cohort(self, name: str) -> SlideSet:
        return self.select([s for s, c in zip(self.ids, self.cohorts, strict=True) if c == name])


def write_slides(
    path: Path, classes: Sequence[str], per_slide: Mapping[str, Counts], cohorts: Mapping[str, str],
    tags: Mapping[str, Mapping[str, str]], fine_classes: Mapping[str, str] | None = None,
) -> None:
    """``fine_classes`` (fine label -> class) goes beside the slides' ``fine`` counts, where they exist."""
    slides = {}
    for slide_id, counts in per_slide.items():
        slides[slide_id] = {"cohort": cohorts[slide_id], **{t: tags[slide_id][t] for t in TAGS},
                            "confusion": counts.confusion.tolist(),
                            "raw_confusion": counts.raw().confusion.tolist()}
        if counts.fine:
            slides[slide_id]["fine"] = {name: row.tolist() for name, row in sorted(counts.fine.items())}
    write_json(path, {"classes": list(classes), "fine_classes": dict(fine_classes or {}), "slides": slides})


def read_slides(path: Path) -> SlideSet:
    """A ``slides.json``; a missing or malformed one is a one-line error naming the file and key."""
    if not path.exists():
        msg = f"{path}: missing; run `hookseg evaluate --out {path.parent}` for this model first"
        raise ConfigError(msg, path=path)
    data = json.loads(path.read_text())
    classes = tuple(data.get("classes", ()))
    slides = data.get("slides", {})
    if not classes or not slides:
        msg = f"{path}:slides: expected classes and at least one scored slide. Received: {sorted(data)}"
        raise ConfigError(msg, path=path)
    shape = (len(classes), len(classes))
    arrays = {}
    for key in ("confusion", "raw_confusion"):
        arrays[key] = np.asarray([s[key] for s in slides.values()], np.int64)
        if arrays[key].shape[1:] != shape:
            msg = f"{path}:slides.*.{key}: expected {shape} per slide. Received: {arrays[key].shape[1:]}"
            raise ConfigError(msg, path=path)
    fine = tuple({n: np.asarray(r, np.int64) for n, r in s.get("fine", {}).items()} for s in slides.values())
    return SlideSet(classes, tuple(slides), tuple(s["cohort"] for s in slides.values()),
                    tuple({t: s[t] for t in TAGS} for s in slides.values()),
                    arrays["confusion"], arrays["raw_confusion"], fine, dict(data.get("fine_classes", {})))

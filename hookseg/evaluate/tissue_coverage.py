"""How much of each ground-truth label the prediction's tissue mask keeps: a ceiling on every model's recall.

``predict_probabilities`` tiles only the tissue mask (``slides.tissue_mask``); what lies outside it is
background without the model being asked. On slides with a full ground-truth raster, the share of each fine
label (and of each class it clubs into) inside the mask is the most recall any model can reach there, and the
share of glass and fat inside it is how much of the slide the model is asked about for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from hookseg.annotations.classes import ClassMap
from hookseg.cohort.manifest import SlideRecord
from hookseg.evaluate.truth import fine_tables
from hookseg.sampling.labels import open_labels, read_labels
from hookseg.slides import TissueParams, open_slide, tissue_mask


@dataclass
class Coverage:
    """Pixels of each label in the ground truth, and how many of them lie inside the tissue mask."""

    inside: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)

    def add(self, label: str, inside: int, total: int) -> None:
        self.inside[label] = self.inside.get(label, 0) + inside
        self.total[label] = self.total.get(label, 0) + total

    def merge(self, other: Coverage) -> None:
        for label, total in other.total.items():
            self.add(label, other.inside[label], total)

    def share(self, label: str) -> float:
        return self.inside[label] / self.total[label] if self.total.get(label) else float("nan")


def slide_coverage(record: SlideRecord, class_map: ClassMap,
                   params: TissueParams | None = None) -> Coverage | None:
    """Coverage of one slide's fine labels and classes (keys ``class:<name>``) on the grid of its tissue mask
    (made with ``params``, default configs/slides.yaml); None for a slide without a full ground truth."""
    if record.ground_truth is None:
        return None
    with open_slide(record.path, mpp=record.mpp) as slide:
        tissue = tissue_mask(slide, params)
        slide_mpp = slide.mpp
    height, width = tissue.mask.shape
    with open_labels(record.ground_truth) as raster:
        origin = (tissue.origin[0] * slide_mpp / raster.mpp, tissue.origin[1] * slide_mpp / raster.mpp)
        codes = read_labels(raster, origin, (width, height), tissue.mpp)
    lut, names = fine_tables(record.ground_truth, class_map)
    coverage = Coverage()
    total = np.bincount(codes.ravel(), minlength=256)
    inside = np.bincount(codes[tissue.mask], minlength=256)
    for code in np.flatnonzero(total):
        if code not in names:
            continue  # outside the raster, or a code its table does not name
        coverage.add(names[code], int(inside[code]), int(total[code]))
        if lut[code] < len(class_map.names):
            coverage.add(f"class:{class_map.names[lut[code]]}", int(inside[code]), int(total[code]))
    return coverage


def cohort_coverage(records: Iterable[SlideRecord], class_map: ClassMap,
                    params: TissueParams | None = None) -> dict[str, Coverage]:
    """Coverage pooled per split over the slides that have a full ground truth."""
    pooled: dict[str, Coverage] = {}
    for record in records:
        coverage = slide_coverage(record, class_map, params)
        if coverage is not None:
            pooled.setdefault(record.split, Coverage()).merge(coverage)
    return pooled


def coverage_markdown(pooled: dict[str, Coverage]) -> str:
    """One table per split: classes first, then fine labels, with the share inside the mask and pixels."""
    lines = []
    for split, coverage in pooled.items():
        title = f"### {split}: share of each ground-truth label inside the tissue mask (a recall ceiling)"
        lines += [title, "", "| label | inside the mask | pixels |", "|---|---|---|"]
        labels = sorted(coverage.total, key=lambda name: (not name.startswith("class:"), name))
        lines += [f"| {label} | {coverage.share(label):.3f} | {coverage.total[label]} |" for label in labels]
        lines.append("")
    return "\n".join(lines)

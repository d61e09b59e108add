"""Counts for one predicted slide against its truth, streamed in row blocks of the output grid."""

from __future__ import annotations

from pathlib import Path

from hookseg.evaluate.counts import Counts
from hookseg.evaluate.truth import truth_rows
from hookseg.infer.slide import SlideOutputs
from hookseg.sampling.labels import open_labels, read_labels
from hookseg.slides import open_slide


def slide_counts(record, outputs: SlideOutputs, class_map, rows_per_block: int = 1024) -> Counts:  # noqa: ANN001
    """Compare ``outputs`` (labels.tiff, probabilities.tiff) with the record's truth pixel by pixel."""
    with open_labels(outputs.labels) as labels, open_slide(outputs.probabilities, backend="tifffile") as probs:
        out_mpp = labels.mpp
        width, height = labels.dimensions
        with record.open() as slide:
            slide_mpp = slide.mpp
        truth = truth_rows(record, class_map, out_mpp, slide_mpp)
        counts = Counts.zeros(class_map.num_classes)
        for y0 in range(0, height, rows_per_block):
            h = min(rows_per_block, height - y0)
            predicted = read_labels(labels, (0, y0), (width, h), out_mpp)
            p = probs.read((0, y0), (width, h), out_mpp, interpolation="nearest")
            counts.add(truth(y0, h, width), predicted, p[..., : class_map.num_classes])
    return counts


def counts_path(folder: Path) -> Path:
    return folder / "counts.json"

"""Counts for one predicted slide against its truth, streamed in row blocks of the output grid.

The labels before post-processing are re-derived from the stored uint8 probabilities with the prediction
settings (argmax or thresholds): the same numbers ``predict_slide`` labelled, so no model runs again.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import numpy as np

from hookseg.evaluate.counts import Counts
from hookseg.evaluate.truth import fine_truth, truth_rows
from hookseg.infer.outputs import SlideOutputs
from hookseg.infer.params import InferParams
from hookseg.infer.postprocess import labels_from_probs
from hookseg.sampling.labels import open_labels, read_labels
from hookseg.slides import open_slide


def slide_counts(
    record, outputs: SlideOutputs, class_map, params: InferParams, rows_per_block: int = 1024,
) -> Counts:
    """Compare ``outputs`` (labels.tiff, probabilities*.tiff) with the record's truth pixel by pixel.

    ``params`` must be the settings the slide was predicted with (mode, thresholds) for the raw labels.
    """
    classes = class_map.num_classes
    parts = outputs.probability_parts(classes)
    with open_labels(outputs.labels) as labels, ExitStack() as stack:
        probs = [stack.enter_context(open_slide(p, backend="tifffile")) for p in parts]
        out_mpp = labels.mpp
        width, height = labels.dimensions
        with record.open() as slide:
            slide_mpp = slide.mpp
        fine = fine_truth(record, class_map, out_mpp)  # None: annotations only, nothing to say per fine label
        truth = truth_rows(record, class_map, out_mpp, slide_mpp) if fine is None else None
        counts = Counts.zeros(classes, fine=fine is not None)
        for y0 in range(0, height, rows_per_block):
            h = min(rows_per_block, height - y0)
            predicted = read_labels(labels, (0, y0), (width, h), out_mpp)
            blocks = [q.read((0, y0), (width, h), out_mpp, interpolation="nearest") for q in probs]
            p = np.concatenate(blocks, axis=-1)[..., :classes]
            raw = labels_from_probs(p, params, class_map.names)
            if fine is None:
                counts.add(truth(y0, h, width), predicted, p, raw=raw)
            else:
                codes = fine.rows(y0, h, width)
                counts.add(fine.lut[codes], predicted, p, raw=raw)
                counts.add_fine(codes, predicted, fine.names)
    return counts


COUNTS_FILE = "counts.json"  # beside a slide's predictions: what evaluate counted of them


def counts_path(folder: Path) -> Path:
    return folder / COUNTS_FILE

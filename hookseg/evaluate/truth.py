"""Ground truth on a prediction's grid: a full label raster (e.g. the demo cohort's) or annotations.

A ground-truth raster stores fine label codes; the code table beside it (``*codes.csv``, BCSS style) names
them and the class map clubs the names into model classes, exactly as for training annotations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hookseg.cohort.manifest import SlideRecord
from hookseg.errors import ManifestError
from hookseg.sampling.labels import open_labels, read_labels

TruthRows = Callable[[int, int, int], np.ndarray]  # (y0, height, width) on the output grid -> class ids


def code_table_for(raster: Path) -> Path:
    """The single ``*codes.csv`` beside a ground-truth raster (or in its parent folder)."""
    for folder in (raster.parent, raster.parent.parent):
        tables = sorted(folder.glob("*codes.csv"))
        if len(tables) == 1:
            return tables[0]
    msg = f"{raster}: no single *codes.csv beside the ground-truth raster to name its codes"
    raise ManifestError(msg, path=raster)


@dataclass(frozen=True)
class FineTruth:
    """A ground-truth raster's fine codes on the output grid, with what the codes are called and club into."""

    rows: TruthRows  # (y0, height, width) -> fine codes (uint8)
    lut: np.ndarray  # fine code -> class id
    names: Mapping[int, str]  # fine code -> the code table's name


def fine_truth(record: SlideRecord, class_map, out_mpp: float) -> FineTruth | None:
    """The record's full ground-truth raster read as fine codes; None for a slide with annotations only."""
    if record.ground_truth is None:
        return None
    raster = open_labels(record.ground_truth)
    lut, names = fine_tables(record.ground_truth, class_map)

    def rows(y0: int, height: int, width: int) -> np.ndarray:
        # Raster level-0 frame: physical = px * raster.mpp; output row y0 starts at y0 * out_mpp microns.
        location = (0.0, y0 * out_mpp / raster.mpp)
        return read_labels(raster, location, (width, height), out_mpp)

    return FineTruth(rows, lut, names)


def fine_tables(ground_truth: Path, class_map) -> tuple[np.ndarray, dict[int, str]]:
    """For a ground-truth raster, from its code table read once: a 256-entry fine code -> class id table (the
    class map's clubbing; ignore for codes the table does not name) and fine code -> name."""
    from hookseg.annotations.label_mask import read_codes

    table = code_table_for(Path(ground_truth))
    names = {code: name for code, (name, _) in read_codes(table).items()}
    lut = np.full(256, class_map.ignore_id, np.uint8)
    for code, name in names.items():
        if 0 <= code < 256:
            lut[code] = class_map.club(name, source=table)
    return lut, names


def truth_rows(record: SlideRecord, class_map, out_mpp: float, slide_mpp: float) -> TruthRows:
    """Rows of class ids on the output grid from the record's ground truth or, failing that, annotations."""
    fine = fine_truth(record, class_map, out_mpp)
    if fine is not None:
        return lambda y0, height, width: fine.lut[fine.rows(y0, height, width)]
    if record.annotations is not None:
        from hookseg.annotations import rasterize, read_annotations

        annotations = read_annotations(record.annotations)
        downsample = out_mpp / slide_mpp

        def rows(y0: int, height: int, width: int) -> np.ndarray:
            return rasterize(annotations, class_map, origin=(0.0, y0 * downsample), size=(width, height),
                             downsample=downsample)

        return rows
    msg = f"{record.slide_id}: no ground_truth or annotations to evaluate against"
    raise ManifestError(msg, path=record.path)

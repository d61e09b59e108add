"""The patch index: sample centres per class inside labelled tissue, one Parquet table per cohort.

Slides are never cut into patch files. The index holds only centres (slide level-0 pixels) with the class
under each centre and the slide's domain tags; the loader reads fields of view from the slides on demand.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hookseg.annotations.classes import IGNORE_ID
from hookseg.cohort.manifest import SlideRecord
from hookseg.io import atomic_path
from hookseg.sampling.labels import open_labels, read_labels
from hookseg.slides import TissueParams, tissue_mask

log = logging.getLogger(__name__)

INDEX_COLUMNS = ("slide_id", "x", "y", "label", "stain", "scanner", "source", "split")


@dataclass(frozen=True)
class IndexParams:
    per_class: int = 200  # centres per class per slide (fewer where a class has few pixels)
    index_mpp: float = 8.0  # resolution the label raster is scanned at
    num_classes: int = 3
    in_tissue: bool = True  # drop centres on glass (Otsu tissue mask), as the paper does
    seed: int = 0
    tissue: TissueParams | None = None  # that mask's parameters (None: configs/slides.yaml's)


def index_slide(record: SlideRecord, labels_path: Path, params: IndexParams, seed: int) -> pd.DataFrame:
    """Centres for one slide: up to ``per_class`` per class, uniformly over that class's labelled pixels."""
    rng = np.random.default_rng(seed)
    with open_labels(labels_path) as labels, record.open() as slide:
        mpp = max(params.index_mpp, labels.mpp)
        width, height = labels.dimensions
        size = (max(1, round(width * labels.mpp / mpp)), max(1, round(height * labels.mpp / mpp)))
        coarse = read_labels(labels, (0, 0), size, mpp)
        if params.in_tissue:
            tissue = tissue_mask(slide, params.tissue)
            coarse = np.where(_resize_mask(tissue.mask, coarse.shape), coarse, IGNORE_ID)
        slide_mpp = slide.mpp
    rows = []
    for label in range(params.num_classes):
        ys, xs = np.nonzero(coarse == label)
        if xs.size == 0:
            continue
        pick = rng.choice(xs.size, size=min(params.per_class, xs.size), replace=False)
        jitter = rng.uniform(0.0, 1.0, (pick.size, 2))
        scale = mpp / slide_mpp  # coarse px -> slide level-0 px
        cx = (xs[pick] + jitter[:, 0]) * scale
        cy = (ys[pick] + jitter[:, 1]) * scale
        rows.append(pd.DataFrame({"x": cx, "y": cy, "label": np.full(pick.size, label, np.uint8)}))
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["x", "y", "label"])
    for column in ("slide_id", "stain", "scanner", "source", "split"):
        frame[column] = getattr(record, column)
    return frame[list(INDEX_COLUMNS)]


def build_index(
    records: Sequence[SlideRecord], labels: Mapping[str, Path], params: IndexParams, out: str | Path,
) -> pd.DataFrame:
    """Index every record that has a label raster; write Parquet atomically; return the table."""
    frames = []
    for number, record in enumerate(records):
        if record.slide_id not in labels:
            log.warning("%s: no label raster, not indexed", record.slide_id)
            continue
        seed = params.seed * 100003 + number
        frames.append(index_slide(record, Path(labels[record.slide_id]), params, seed=seed))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(INDEX_COLUMNS))
    table["label"] = table["label"].astype(np.uint8)
    with atomic_path(out) as tmp:
        table.to_parquet(tmp, index=False)
    return table


def _resize_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    rows = np.minimum((np.arange(shape[0]) + 0.5) * mask.shape[0] / shape[0], mask.shape[0] - 1).astype(int)
    cols = np.minimum((np.arange(shape[1]) + 0.5) * mask.shape[1] / shape[1], mask.shape[1] - 1).astype(int)
    return mask[rows[:, None], cols[None, :]]

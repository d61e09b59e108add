"""Manual annotations -> per-slide label rasters (class ids, the map's ignore id elsewhere), streamed by tile.

The base stage trains on these; pseudo-labelling phases write rasters of the same form, so the loader reads
one kind of label file whatever produced it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from hookseg.cohort.manifest import Manifest, SlideRecord

if TYPE_CHECKING:
    import numpy as np

    from hookseg.annotations import ClassMap

log = logging.getLogger(__name__)

CLASS_MAP_FILE = "class_map.json"  # beside a folder's rasters: the class map whose ids they hold


def write_folder_class_map(folder: str | Path, class_map: ClassMap) -> Path:
    """Record which class map a folder of label rasters uses (the next stage trains with it)."""
    from hookseg.io import write_json

    path = Path(folder) / CLASS_MAP_FILE
    write_json(path, class_map.to_dict())
    return path


def read_folder_class_map(folder: str | Path) -> ClassMap | None:
    """The class map recorded beside a folder's label rasters, or None for a folder without one."""
    import json

    from hookseg.annotations import ClassMap

    path = Path(folder) / CLASS_MAP_FILE
    if not path.exists():
        return None
    return ClassMap.from_dict(json.loads(path.read_text()), source=path)


def rasterize_record(record: SlideRecord, class_map: ClassMap, out: Path, mpp: float) -> Path:
    """Label raster of one slide's annotations at ``mpp``, covering the whole slide."""
    from hookseg.annotations import rasterize, read_annotations
    from hookseg.sampling.labels import write_label_raster

    annotations = read_annotations(record.annotations)
    with record.open() as slide:
        slide_mpp = slide.mpp
        width, height = slide.dimensions
    downsample = mpp / slide_mpp
    size = (max(1, round(width / downsample)), max(1, round(height / downsample)))

    def tile(x: int, y: int, w: int, h: int) -> np.ndarray:
        return rasterize(annotations, class_map, origin=(x * downsample, y * downsample), size=(w, h),
                         downsample=downsample)

    return write_label_raster(out, tile, size=size, mpp=mpp)


def rasterize_manifest(
    manifest: Manifest, class_map: ClassMap, out_dir: str | Path, *, mpp: float,
    splits: tuple[str, ...] = ("train", "val"),
) -> dict[str, Path]:
    """A label raster per annotated slide of ``splits``; existing rasters are kept (a rerun resumes)."""
    out_dir = Path(out_dir)
    write_folder_class_map(out_dir, class_map)
    rasters = {}
    for record in manifest.split(*splits):
        if record.annotations is None:
            continue
        out = out_dir / f"{record.slide_id}.tiff"
        if not out.exists():
            rasterize_record(record, class_map, out, mpp)
            log.info("%s: labels -> %s", record.slide_id, out)
        rasters[record.slide_id] = out
    return rasters

"""Manual annotations -> per-slide label rasters (class ids, 255 = ignore), streamed tile by tile.

The base stage trains on these; pseudo-labelling phases write rasters of the same form, so the loader reads
one kind of label file whatever produced it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hookseg.cohort.manifest import Manifest, SlideRecord
from hookseg.slides.writer import write_pyramid

log = logging.getLogger(__name__)


def rasterize_record(record: SlideRecord, class_map, out: Path, mpp: float) -> Path:  # noqa: ANN001 - ClassMap
    """Label raster of one slide's annotations at ``mpp``, covering the whole slide."""
    from hookseg.annotations import rasterize, read_annotations  # noqa: PLC0415

    annotations = read_annotations(record.annotations)
    with record.open() as slide:
        slide_mpp = slide.mpp
        width, height = slide.dimensions
    downsample = mpp / slide_mpp
    size = (max(1, round(width / downsample)), max(1, round(height / downsample)))

    def tile(x: int, y: int, w: int, h: int):  # noqa: ANN202
        return rasterize(annotations, class_map, origin=(x * downsample, y * downsample), size=(w, h),
                         downsample=downsample)[..., None]

    return write_pyramid(out, size, tile, mpp=mpp, channels=1, labels=True, compression="zlib")


def rasterize_manifest(
    manifest: Manifest, class_map, out_dir: str | Path, *, mpp: float,  # noqa: ANN001
    splits: tuple[str, ...] = ("train", "val"),
) -> dict[str, Path]:
    """A label raster per annotated slide of ``splits``; existing rasters are kept (a rerun resumes)."""
    out_dir = Path(out_dir)
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

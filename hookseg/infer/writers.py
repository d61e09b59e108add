"""Per-slide outputs: probability TIFFs, QuPath GeoJSON, overlay PNG, all atomic.

The label map is a label raster like any other, written by ``hookseg.sampling.labels.write_label_raster``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import shapely
from PIL import Image

from hookseg.infer.outputs import CLASSES_PER_TIFF
from hookseg.io import atomic_path
from hookseg.slides import write_pyramid


def write_probability_tiffs(paths: Sequence[Path], probs: np.ndarray, mpp: float) -> list[Path]:
    """Pyramidal RGB TIFFs of class probabilities x 255, three classes per file (QuPath shows them as images).

    ``paths`` come from ``SlideOutputs.probability_parts``; a last file with fewer classes is zero-padded.
    """
    height, width, classes = probs.shape
    if len(paths) * CLASSES_PER_TIFF < classes:
        msg = (f"probability TIFFs: expected at most {len(paths) * CLASSES_PER_TIFF} classes in {len(paths)} "
               f"file(s). Received: {classes}")
        raise ValueError(msg)
    for part, path in enumerate(paths):
        first = part * CLASSES_PER_TIFF

        def tile(x: int, y: int, w: int, h: int, first: int = first) -> np.ndarray:
            block = np.asarray(probs[y : y + h, x : x + w, first : first + CLASSES_PER_TIFF])
            if block.shape[-1] < CLASSES_PER_TIFF:
                pad = np.zeros((*block.shape[:2], CLASSES_PER_TIFF - block.shape[-1]), np.uint8)
                block = np.concatenate([block, pad], axis=-1)
            return block

        write_pyramid(path, (width, height), tile, mpp=mpp, channels=CLASSES_PER_TIFF, compression="zlib")
    return list(paths)


def write_regions_geojson(path: Path, labels: np.ndarray, scale: float, class_map,
                          simplify_px: float, extent: tuple[int, int] | None = None) -> int:
    """Class regions (polygons with holes) in level-0 pixels; ``scale`` = level-0 px per label px.

    ``extent`` (the slide's level-0 width, height) clips them: the label grid's last cell can reach past the
    slide's edge, and a polygon outside the image confuses viewers.
    """
    from hookseg.annotations import Annotation, AnnotationSet, write_annotations
    from hookseg.annotations.label_mask import vectorize

    annotations = []
    for cls in range(1, class_map.num_classes):
        geometry = vectorize(labels == cls)
        if geometry is None:
            continue
        if simplify_px > 0:
            geometry = shapely.make_valid(geometry.simplify(simplify_px, preserve_topology=True))
        geometry = shapely.affinity.scale(geometry, xfact=scale, yfact=scale, origin=(0, 0))
        if extent is not None:
            geometry = geometry.intersection(shapely.box(0, 0, *extent))
        parts = [g for g in shapely.get_parts(geometry) if g.geom_type == "Polygon" and not g.is_empty]
        if parts:
            geometry = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
            annotations.append(Annotation(geometry, class_map.name_of(cls)))
    write_annotations(AnnotationSet(annotations), path, format="geojson", class_map=class_map)
    return len(annotations)


def write_overlay_png(path: Path, thumbnail: np.ndarray, labels: np.ndarray,
                      colors: Sequence[tuple[int, int, int]], alpha: float = 0.45) -> Path:
    """The slide thumbnail with non-background classes tinted by their colour."""
    small = cv2.resize(labels, (thumbnail.shape[1], thumbnail.shape[0]), interpolation=cv2.INTER_NEAREST)
    palette = np.array(colors, np.float32)
    tint = palette[np.minimum(small, len(colors) - 1)]
    blend = thumbnail.astype(np.float32)
    painted = small > 0
    blend[painted] = (1 - alpha) * blend[painted] + alpha * tint[painted]
    with atomic_path(path) as tmp:
        Image.fromarray(blend.astype(np.uint8)).save(tmp, format="PNG")
    return path

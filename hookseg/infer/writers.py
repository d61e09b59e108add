"""Per-slide outputs: pyramidal label and probability TIFFs, QuPath GeoJSON, overlay PNG (all atomic)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
import shapely
from PIL import Image

from hookseg.io import atomic_path
from hookseg.slides import write_pyramid


def write_label_tiff(path: Path, shape: tuple[int, int], labels_of: Callable[[int, int, int, int], np.ndarray],
                     mpp: float) -> Path:
    """Pyramidal uint8 class-id TIFF (lossless, nearest reductions) in the slide's frame at ``mpp``."""
    height, width = shape
    return write_pyramid(path, (width, height), lambda x, y, w, h: labels_of(x, y, w, h)[..., None],
                         mpp=mpp, channels=1, labels=True, compression="zlib")


def write_probability_tiff(path: Path, probs: np.ndarray, mpp: float) -> Path:
    """Pyramidal RGB TIFF whose channels are the 3 class probabilities x 255 (QuPath shows it as an image)."""
    height, width, classes = probs.shape
    if classes != 3:
        msg = f"probability TIFF needs 3 classes (one per RGB channel). Received: {classes}"
        raise ValueError(msg)
    return write_pyramid(path, (width, height), lambda x, y, w, h: np.asarray(probs[y : y + h, x : x + w]),
                         mpp=mpp, channels=3, compression="zlib")


def write_regions_geojson(path: Path, labels: np.ndarray, scale: float, class_map,  # noqa: ANN001 - ClassMap
                          simplify_px: float) -> int:
    """Class regions (polygons with holes) in level-0 pixels; ``scale`` = level-0 px per label px."""
    from hookseg.annotations import Annotation, AnnotationSet, write_annotations  # noqa: PLC0415
    from hookseg.annotations.label_mask import vectorize  # noqa: PLC0415

    annotations = []
    for cls in range(1, class_map.num_classes):
        geometry = vectorize(labels == cls)
        if geometry is None:
            continue
        if simplify_px > 0:
            geometry = shapely.make_valid(geometry.simplify(simplify_px, preserve_topology=True))
        geometry = shapely.affinity.scale(geometry, xfact=scale, yfact=scale, origin=(0, 0))
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

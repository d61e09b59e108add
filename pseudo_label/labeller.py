"""``label_slide``: one slide's pseudo-label raster from a model, thresholds and its manual annotations.

Every training slide is labelled, annotated or not. A pixel takes the model's argmax class c where p_c is at
least c's threshold (one for all classes: Table 8; or one per class, calibrated by ``pseudo_label.calibrate``)
and is ignored elsewhere, and also within ``border_um`` of a change of the model's class
(``pseudo_label.border``); where a pathologist annotated, the annotation wins. The raster is at the model's
target mpp in the slide's frame, like every label raster. The class map (names, ignore id, clubbing of the
annotations) is the model's own, from its metadata.

While it labels, it counts how good the labels are (``pseudo_label.quality``): against the slide's full
ground truth where the manifest has one, and against its annotations where the labelling model never trained
on them (``held_out``: the val split's), comparing what the model said before the annotation overwrote it.

The probabilities go to a scratch file beside the raster (``scratch_path``). Calibration predicts the
held-out slides first and keeps their scratch files; labelling then reuses them instead of predicting again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hookseg.annotations.classes import IGNORE_ID
from hookseg.cohort.manifest import SlideRecord
from hookseg.infer.params import InferParams
from hookseg.infer.predict import ProbabilityMap, predict_probabilities
from hookseg.io import write_json
from hookseg.model_meta import ModelMeta
from hookseg.sampling.labels import open_labels, read_labels, write_label_raster
from pseudo_label.border import radius_px, tile_band
from pseudo_label.calibrate import add_to_histogram, empty_histogram, threshold_bin
from pseudo_label.quality import QualityCounts

HELD_OUT_SPLITS = ("val",)  # annotations no stage trains on (val only steers validation)
CALIBRATION_TILE = 512  # label px per side of the windows the held-out histogram is counted over

Thresholds = float | Sequence[float]  # one for every class, or one per class (> 1: the class gets no labels)


def class_bins(threshold: Thresholds, num_classes: int) -> np.ndarray:
    """Per class, the smallest uint8 probability that passes its threshold."""
    values = [threshold] * num_classes if isinstance(threshold, int | float) else list(threshold)
    if len(values) != num_classes:
        msg = f"thresholds: expected one per class ({num_classes}). Received: {values}"
        raise ValueError(msg)
    return np.array([threshold_bin(t) for t in values], np.int64)


def confident_labels(probs: np.ndarray, threshold: Thresholds, ignore_id: int = IGNORE_ID) -> np.ndarray:
    """Argmax of (..., C) uint8 probabilities where its probability reaches its class's threshold."""
    top = probs.max(axis=-1)
    labels = probs.argmax(axis=-1).astype(np.uint8)
    labels[top < class_bins(threshold, probs.shape[-1])[labels]] = ignore_id
    return labels


def scratch_path(out: Path) -> Path:
    """Where the probabilities of the slide labelled into ``out`` are kept while it is labelled."""
    return out.with_name(f".{out.stem}.probabilities.npy")


def slide_probabilities(
    model: Any, meta: ModelMeta, record: SlideRecord, scratch: Path, params: InferParams,
) -> tuple[ProbabilityMap, float, float]:
    """The slide's probability map (reused if ``scratch`` exists), its level-0 mpp and the seconds predicting.

    A prediction is written under a temporary name and renamed when complete, so an existing scratch file is
    always whole.
    """
    with record.open() as slide:
        slide_mpp = slide.mpp
        if scratch.exists():
            shape = np.load(scratch, mmap_mode="r").shape
            return ProbabilityMap(scratch, meta.fov.mpp, shape, 0), slide_mpp, 0.0
        start = time.perf_counter()
        part = scratch.with_name(scratch.name + ".part.npy")
        pmap = predict_probabilities(model, meta, slide, part, params)
        part.replace(scratch)
        seconds = time.perf_counter() - start
    return ProbabilityMap(scratch, pmap.mpp, pmap.shape, pmap.tiles), slide_mpp, seconds


def _annotation_tiles(record: SlideRecord, class_map: Any, downsample: float,
                      ) -> Callable[[int, int, int, int], np.ndarray] | None:
    """(x, y, w, h) in label px -> the record's annotations rasterised there, or None without annotations."""
    if record.annotations is None:
        return None
    from hookseg.annotations import rasterize, read_annotations

    annotations = read_annotations(record.annotations)

    def drawn(x: int, y: int, w: int, h: int) -> np.ndarray:
        return rasterize(annotations, class_map, origin=(x * downsample, y * downsample), size=(w, h),
                         downsample=downsample)

    return drawn


def calibrate_slide(
    model: Any, meta: ModelMeta, record: SlideRecord, out: Path, params: InferParams | None = None, *,
    border_um: float = 0.0,
) -> tuple[np.ndarray, float]:
    """The held-out histogram (``pseudo_label.calibrate``) of a slide's annotated pixels outside the band,
    and the seconds spent predicting. The probabilities stay in ``scratch_path(out)`` for ``label_slide``.
    """
    params = params or InferParams.load()
    class_map = meta.class_map
    out.parent.mkdir(parents=True, exist_ok=True)
    pmap, slide_mpp, predict_s = slide_probabilities(model, meta, record, scratch_path(out), params)
    hist = empty_histogram(class_map.num_classes)
    drawn = _annotation_tiles(record, class_map, pmap.mpp / slide_mpp)
    if drawn is None:
        return hist, predict_s
    probs = pmap.open()
    radius = radius_px(border_um, pmap.mpp)
    height, width = pmap.shape[:2]
    for y in range(0, height, CALIBRATION_TILE):
        for x in range(0, width, CALIBRATION_TILE):
            w, h = min(CALIBRATION_TILE, width - x), min(CALIBRATION_TILE, height - y)
            annotation = drawn(x, y, w, h)
            if (annotation >= class_map.num_classes).all():
                continue
            keep = ~tile_band(probs, x, y, w, h, radius)
            add_to_histogram(hist, np.asarray(probs[y : y + h, x : x + w]), annotation, keep)
    return hist, predict_s


def label_slide(
    model: Any, meta: ModelMeta, record: SlideRecord, threshold: Thresholds, out: Path,
    params: InferParams | None = None, *, border_um: float = 0.0,
) -> dict[str, Any]:
    """Write ``out`` (label raster) and ``out.with_suffix('.json')`` (labelled fraction per class)."""
    params = params or InferParams.load()  # configs/infer.yaml
    class_map = meta.class_map
    ignore_id = class_map.ignore_id
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = scratch_path(out)
    reused = scratch.exists()
    pmap, slide_mpp, predict_s = slide_probabilities(model, meta, record, scratch, params)
    probs = pmap.open()
    drawn_at = _annotation_tiles(record, class_map, pmap.mpp / slide_mpp)
    radius = radius_px(border_um, pmap.mpp)
    counts = np.zeros(256, np.int64)
    manual = np.zeros(1, np.int64)
    quality = QualityCounts(class_map.num_classes, ignore_id)
    truth = open_labels(record.ground_truth) if record.ground_truth is not None else None
    held_out = record.split in HELD_OUT_SPLITS

    def tile(x: int, y: int, w: int, h: int) -> np.ndarray:
        model_labels = confident_labels(np.asarray(probs[y : y + h, x : x + w]), threshold, ignore_id)
        model_labels[tile_band(probs, x, y, w, h, radius)] = ignore_id
        labels = model_labels.copy()
        annotated = np.zeros(labels.shape, bool)
        if drawn_at is not None:
            drawn = drawn_at(x, y, w, h)
            annotated = drawn != ignore_id
            labels[annotated] = drawn[annotated]
            manual[0] += int(annotated.sum())
            if held_out:
                quality.add_held_out(model_labels, drawn)
        if truth is not None:
            scale = pmap.mpp / truth.mpp  # label-grid px -> truth level-0 px (both in the slide's frame)
            fine = read_labels(truth, (x * scale, y * scale), (w, h), pmap.mpp)
            quality.add_truth(labels, fine, ~annotated)
        counts[:] += np.bincount(labels.ravel(), minlength=256)
        return labels

    height, width = pmap.shape[:2]
    try:
        write_label_raster(out, tile, size=(width, height), mpp=pmap.mpp)
    finally:
        if truth is not None:
            truth.close()
    scratch.unlink(missing_ok=True)  # POSIX: the read-only mapping of `probs` stays valid until it is freed
    total = counts.sum()
    summary = {
        "slide_id": record.slide_id,
        "threshold": (threshold if isinstance(threshold, int | float)
                      else dict(zip(class_map.names, map(float, threshold), strict=True))),
        "border_um": border_um,
        "predict_s": round(predict_s, 2),
        "reused_probabilities": reused,
        "labelled_fraction": float(1 - counts[ignore_id] / total) if total else 0.0,
        "class_fraction": {class_map.name_of(c): float(counts[c] / total) if total else 0.0
                           for c in range(class_map.num_classes)},
        "manual_fraction": float(manual[0] / total) if total else 0.0,
        "quality": quality.to_json(),
    }
    write_json(out.with_suffix(".json"), summary)
    return summary


def read_summary(raster: Path) -> dict[str, Any]:
    return json.loads(raster.with_suffix(".json").read_text())

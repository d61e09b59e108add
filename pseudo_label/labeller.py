"""``label_slide``: one slide's pseudo-label raster from a model, a threshold and its manual annotations.

Every training slide is labelled, annotated or not. A pixel takes the model's argmax where the top class
probability is at least the threshold and is ignored elsewhere; where a pathologist annotated, the
annotation wins. The raster is at the model's target mpp in the slide's frame, like every label raster. The
class map (names, ignore id, clubbing of the annotations) is the model's own, from its metadata.

While it labels, it counts how good the labels are (``pseudo_label.quality``): against the slide's full
ground truth where the manifest has one, and against its annotations where the labelling model never trained
on them (``held_out``: the val split's), comparing what the model said before the annotation overwrote it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import numpy as np

from hookseg.annotations.classes import IGNORE_ID
from hookseg.cohort.manifest import SlideRecord
from hookseg.infer.params import InferParams
from hookseg.infer.predict import predict_probabilities
from hookseg.io import write_json
from hookseg.model_meta import ModelMeta
from hookseg.sampling.labels import open_labels, read_labels, write_label_raster
from pseudo_label.quality import QualityCounts

HELD_OUT_SPLITS = ("val",)  # annotations no stage trains on (val only steers validation)


def confident_labels(probs: np.ndarray, threshold: float, ignore_id: int = IGNORE_ID) -> np.ndarray:
    """Argmax of (..., C) uint8 probabilities where the max is >= threshold, else ``ignore_id``."""
    top = probs.max(axis=-1)
    labels = probs.argmax(axis=-1).astype(np.uint8)
    labels[top < np.ceil(threshold * 255 - 1e-9)] = ignore_id
    return labels


def label_slide(
    model: keras.Model, meta: ModelMeta, record: SlideRecord, threshold: float, out: Path,
    params: InferParams | None = None,
) -> dict[str, Any]:
    """Write ``out`` (label raster) and ``out.with_suffix('.json')`` (labelled fraction per class)."""
    params = params or InferParams.load()  # configs/infer.yaml
    class_map = meta.class_map
    ignore_id = class_map.ignore_id
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = out.with_name(f".{out.stem}.probabilities.npy")
    with record.open() as slide:
        pmap = predict_probabilities(model, meta, slide, scratch, params)
        slide_mpp = slide.mpp
    probs = pmap.open()
    annotations = None
    if record.annotations is not None:
        from hookseg.annotations import read_annotations

        annotations = read_annotations(record.annotations)
    downsample = pmap.mpp / slide_mpp
    counts = np.zeros(256, np.int64)
    manual = np.zeros(1, np.int64)
    quality = QualityCounts(class_map.num_classes, ignore_id)
    truth = open_labels(record.ground_truth) if record.ground_truth is not None else None
    held_out = record.split in HELD_OUT_SPLITS

    def tile(x: int, y: int, w: int, h: int) -> np.ndarray:
        model_labels = confident_labels(np.asarray(probs[y : y + h, x : x + w]), threshold, ignore_id)
        labels = model_labels.copy()
        annotated = np.zeros(labels.shape, bool)
        if annotations is not None:
            from hookseg.annotations import rasterize

            drawn = rasterize(annotations, class_map, origin=(x * downsample, y * downsample), size=(w, h),
                              downsample=downsample)
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
        "threshold": threshold,
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

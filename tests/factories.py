"""Tiny real cohorts for tests: pyramidal TIFF slides with known class bands and their label rasters."""

from __future__ import annotations

import csv
from pathlib import Path

import keras
import numpy as np

from hookseg.sampling import write_label_raster
from hookseg.slides import write_pyramid

COLOURS = {0: (230, 180, 200), 1: (90, 40, 120), 2: (200, 120, 60)}


def banded_slide(folder: Path, name: str, *, size: tuple[int, int] = (1536, 1024), mpp: float = 1.0,
                 seed: int = 0, label_mpp: float = 2.0) -> tuple[Path, Path]:
    """A slide of three vertical class bands (textured) above a glass strip, and its label raster."""
    width, height = size
    rng = np.random.default_rng(seed)
    band = np.minimum(np.arange(width) * 3 // width, 2)
    image = np.zeros((height, width, 3), np.uint8)
    for label, colour in COLOURS.items():
        image[:, band == label] = colour
    glass_from = height * 4 // 5
    image[glass_from:] = 245
    noise = rng.integers(-15, 16, image.shape)
    image = np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)
    slide = write_pyramid(
        folder / f"{name}.tif", size, lambda x, y, w, h: image[y : y + h, x : x + w], mpp=mpp
    )
    step = round(label_mpp / mpp)
    labels = np.repeat(band[::step][None, :], height // step, axis=0).astype(np.uint8)
    labels[glass_from // step :] = 255
    raster = write_label_raster(folder / "labels" / f"{name}.tiff", labels, mpp=label_mpp)
    # Full ground truth in fine codes (as the demo cohort stores it), named by gt/codes.csv.
    fine = np.array([2, 1, 3], np.uint8)[np.repeat(band[::step][None, :], height // step, axis=0)]
    fine[glass_from // step :] = 0
    write_label_raster(folder / "gt" / f"{name}.tiff", fine, mpp=label_mpp)
    (folder / "gt" / "codes.csv").write_text(
        "group,GT_code,color\nglass,0,rgb(255,255,255)\ntumour,1,rgb(255,0,0)\n"
        "stroma,2,rgb(255,125,0)\ndcis,3,rgb(0,0,255)\n"
    )
    return slide, raster


def banded_cohort(folder: Path, splits: dict[str, str], **kwargs) -> Path:
    """Slides named by ``splits`` keys (value = split), a manifest, and label rasters under folder/labels."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for number, (name, split) in enumerate(splits.items()):
        slide, _ = banded_slide(folder, name, seed=number, **kwargs)
        rows.append({"slide_id": name, "path": slide.name, "stain": ["ER", "HER2"][number % 2],
                     "scanner": "A", "source": "DS1", "split": split, "patient_id": f"P{number}",
                     "annotations": "", "ground_truth": f"gt/{name}.tiff"})
    return write_manifest_rows(folder / "manifest.csv", rows)


def write_manifest_rows(path: Path, rows: list[dict]) -> Path:
    """A manifest CSV whose columns are the first row's keys."""
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


SCALE = 0.0003  # logits: band colours are certain, glass (nearest to pale stroma) is not


def nearest_colour_model(size: int, context: bool) -> keras.Model:
    """A 1x1-conv softmax labelling each pixel by its nearest band colour: its right answer is known."""
    centroids = np.array([COLOURS[k] for k in range(3)], np.float32)
    kernel = (2 * centroids.T * SCALE)[None, None]  # (1, 1, 3, 3)
    bias = -(centroids**2).sum(1) * SCALE
    target = keras.Input((size, size, 3), name="target")
    conv = keras.layers.Conv2D(3, 1, name="colour_head")
    probs = keras.layers.Softmax(name="final")(conv(target))
    inputs = [target]
    outputs = {"final": probs}
    if context:
        ctx = keras.Input((size, size, 3), name="context")
        inputs.append(ctx)
        outputs["context"] = keras.layers.Softmax(name="context_out")(conv(ctx))
    model = keras.Model(inputs, outputs)
    conv.set_weights([kernel, bias])
    return model

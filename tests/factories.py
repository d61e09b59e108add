"""Tiny real cohorts for tests: pyramidal TIFF slides with known class bands and their label rasters."""

from __future__ import annotations

import csv
from pathlib import Path

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
    slide = write_pyramid(folder / f"{name}.tif", size, lambda x, y, w, h: image[y : y + h, x : x + w], mpp=mpp)
    step = round(label_mpp / mpp)
    labels = np.repeat(band[::step][None, :], height // step, axis=0).astype(np.uint8)
    labels[glass_from // step :] = 255
    raster = write_label_raster(folder / "labels" / f"{name}.tiff", labels, mpp=label_mpp)
    return slide, raster


def banded_cohort(folder: Path, splits: dict[str, str], **kwargs) -> Path:
    """Slides named by ``splits`` keys (value = split), a manifest, and label rasters under folder/labels."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for number, (name, split) in enumerate(splits.items()):
        slide, _ = banded_slide(folder, name, seed=number, **kwargs)
        rows.append({"slide_id": name, "path": slide.name, "stain": ["ER", "HER2"][number % 2],
                     "scanner": "A", "source": "DS1", "split": split, "patient_id": f"P{number}",
                     "annotations": ""})
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest

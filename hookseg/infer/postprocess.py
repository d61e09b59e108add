"""From probabilities to class labels: argmax or one-vs-rest thresholds, then region-level clean-up.

Region steps (hysteresis, minimum area, hole filling; paper 001) need connected components over the whole
slide, so they run on a coarse grid (``postprocess_mpp``) whose size stays small for any slide; pixels whose
coarse cell they change take the coarse decision, every other pixel keeps its full-resolution label.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from skimage import measure, morphology

from hookseg.infer.params import InferParams

BACKGROUND = 0


def labels_from_probs(probs: np.ndarray, params: InferParams, class_names: Sequence[str]) -> np.ndarray:
    """Class per pixel from (..., C) probabilities (uint8 x 255 or float)."""
    scores = probs.astype(np.float32) / (255.0 if probs.dtype == np.uint8 else 1.0)
    if params.mode == "argmax":
        return scores.argmax(axis=-1).astype(np.uint8)
    if params.mode != "threshold":
        msg = f"infer.mode: expected 'argmax' or 'threshold'. Received: {params.mode!r}"
        raise ValueError(msg)
    passing = np.zeros_like(scores, dtype=bool)
    for index, name in enumerate(class_names):
        if index != BACKGROUND and name in params.thresholds:
            passing[..., index] = scores[..., index] >= params.thresholds[name]
    masked = np.where(passing, scores, -1.0)
    best = masked.argmax(axis=-1)
    return np.where(passing.any(axis=-1), best, BACKGROUND).astype(np.uint8)


def coarse_probabilities(probs: np.ndarray, factor: int, rows_per_chunk: int = 2048) -> np.ndarray:
    """Area-mean of a (H, W, C) uint8 raster over factor x factor cells, read in row chunks."""
    height, width, classes = probs.shape
    out_h, out_w = -(-height // factor), -(-width // factor)
    out = np.zeros((out_h, out_w, classes), np.float32)
    chunk = max(factor, rows_per_chunk // factor * factor)
    for y in range(0, height, chunk):
        block = np.asarray(probs[y : y + chunk], dtype=np.float32) / 255.0
        rows = -(-block.shape[0] // factor)
        out[y // factor : y // factor + rows] = cv2.resize(
            block, (out_w, rows), interpolation=cv2.INTER_AREA
        ).reshape(rows, out_w, classes)
    return out


def clean_regions(labels: np.ndarray, probs: np.ndarray, params: InferParams, pixel_um2: float) -> np.ndarray:
    """Hysteresis, minimum region area and hole filling, per non-background class."""
    out = labels.copy()
    min_pixels = int(params.min_region_um2 / pixel_um2)
    hole_pixels = int(params.fill_holes_um2 / pixel_um2)
    for cls in range(1, probs.shape[-1]):
        mask = out == cls
        if not mask.any():
            continue
        if params.hysteresis is not None:
            components = measure.label(mask, connectivity=2)
            confident = np.unique(components[(probs[..., cls] >= params.hysteresis.high) & mask])
            mask &= np.isin(components, confident[confident > 0])
        if min_pixels > 0:
            mask = morphology.remove_small_objects(mask, max_size=min_pixels)
        out[(out == cls) & ~mask] = BACKGROUND
        if hole_pixels > 0:
            filled = morphology.remove_small_holes(mask, max_size=hole_pixels)
            out[filled & ~mask & (out == BACKGROUND)] = cls
    return out

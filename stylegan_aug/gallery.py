"""Labelled image grids: the training sample grid (MLflow artifact) and the docs gallery."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from hookseg.io import atomic_path

LABEL_WIDTH = 150
GAP = 2


def _label(text: str, height: int, width: int = LABEL_WIDTH) -> np.ndarray:
    tile = np.full((height, width, 3), 255, np.uint8)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        y = height // 2 + (i - (len(lines) - 1) / 2) * 16 + 5
        cv2.putText(tile, line, (4, int(y)), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (20, 20, 20), 1, cv2.LINE_AA)
    return tile


def image_grid(rows: Sequence[np.ndarray], labels: Sequence[str], cell: int | None = None) -> np.ndarray:
    """Rows of uint8 patches (each (n, h, w, 3)), a text label left of each row, white gaps."""
    if len(rows) != len(labels) or not rows:
        msg = f"image_grid needs one label per row. Received: {len(rows)} rows, {len(labels)} labels"
        raise ValueError(msg)
    cell = cell or int(rows[0].shape[1])
    built = []
    for patches, text in zip(rows, labels, strict=True):
        gap = np.full((cell, GAP, 3), 255, np.uint8)
        parts = [_label(text, cell)]
        for patch in patches:
            interpolation = cv2.INTER_AREA if cell < patch.shape[0] else cv2.INTER_NEAREST
            parts += [cv2.resize(patch, (cell, cell), interpolation=interpolation), gap]
        built.append(np.concatenate(parts, axis=1))
    width = max(row.shape[1] for row in built)
    out_rows = []
    for row in built:
        out_rows += [np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0)), constant_values=255),
                     np.full((GAP, width, 3), 255, np.uint8)]
    return np.concatenate(out_rows, axis=0)


def write_png(path: str | Path, rgb: np.ndarray) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            msg = f"{path}: could not write the PNG"
            raise OSError(msg)
    return path

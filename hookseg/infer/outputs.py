"""Where one slide's predictions live; Keras-free, so evaluation can find finished predictions cheaply.

``summary.json`` is written last, so its presence means the slide is done. Probabilities are RGB TIFFs of
three classes each (QuPath shows them as images): ``probabilities.tiff`` holds classes 0-2 and, for models
with more classes, ``probabilities.1.tiff`` holds 3-5 and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CLASSES_PER_TIFF = 3  # one class per RGB channel


@dataclass(frozen=True)
class SlideOutputs:
    folder: Path

    @property
    def labels(self) -> Path:
        return self.folder / "labels.tiff"

    @property
    def probabilities(self) -> Path:
        return self.folder / "probabilities.tiff"

    def probability_parts(self, num_classes: int) -> list[Path]:
        """The probability TIFFs of a ``num_classes`` model, three classes per file, first class first."""
        parts = -(-num_classes // CLASSES_PER_TIFF)
        return [self.probabilities, *(self.folder / f"probabilities.{k}.tiff" for k in range(1, parts))]

    @property
    def regions(self) -> Path:
        return self.folder / "regions.geojson"

    @property
    def overlay(self) -> Path:
        return self.folder / "overlay.png"

    @property
    def summary(self) -> Path:
        return self.folder / "summary.json"

"""What a training sample is made of: where a slide's pixels and labels live, and the fields of view read.

Keras-free, so configs, model metadata and evaluation can name fields of view without importing a backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SlideSource:
    """Where one slide's pixels and labels live."""

    path: str
    labels: str
    mpp: float | None = None


@dataclass(frozen=True)
class FieldOfView:
    size: int = 512
    mpp: float = 0.5
    context_size: int = 512
    context_mpp: float | None = 2.0  # None: single-resolution model (no context input)


def sources_from_records(records, labels: Mapping[str, Path]) -> dict[str, SlideSource]:  # noqa: ANN001
    """SlideSource per manifest record that has a label raster."""
    return {
        r.slide_id: SlideSource(str(r.path), str(labels[r.slide_id]), r.mpp)
        for r in records if r.slide_id in labels
    }

"""What a training sample is made of: where a slide's pixels and labels live, and the fields of view read.

Keras-free. ``FieldOfView`` is defined in ``hookseg.model_meta`` (below sampling and infer) and re-exported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hookseg.model_meta import FieldOfView  # the one definition; re-exported for the sampling API

__all__ = ["FieldOfView", "SlideSource", "sources_from_records"]


@dataclass(frozen=True)
class SlideSource:
    """Where one slide's pixels and labels live."""

    path: str
    labels: str
    mpp: float | None = None


def sources_from_records(records, labels: Mapping[str, Path]) -> dict[str, SlideSource]:
    """SlideSource per manifest record that has a label raster."""
    return {
        r.slide_id: SlideSource(str(r.path), str(labels[r.slide_id]), r.mpp)
        for r in records if r.slide_id in labels
    }

"""Patch index, class-balanced draws and the paired field-of-view dataset.

``PatchDataset`` (a ``keras.utils.PyDataset``) loads on first use, so importing the package for labels, the
index or a ``FieldOfView`` does not import Keras and its backend.
"""

from __future__ import annotations

from typing import Any

from hookseg.sampling.balance import BalancedSampler, batch_composition
from hookseg.sampling.index import IndexParams, build_index, index_slide
from hookseg.sampling.labels import open_labels, read_labels, read_labels_at_center, write_label_raster
from hookseg.sampling.views import FieldOfView, SlideSource, sources_from_records

__all__ = [
    "BalancedSampler",
    "FieldOfView",
    "IndexParams",
    "PatchDataset",
    "SlideSource",
    "batch_composition",
    "build_index",
    "index_slide",
    "open_labels",
    "read_labels",
    "read_labels_at_center",
    "sources_from_records",
    "write_label_raster",
]


def __getattr__(name: str) -> Any:
    if name == "PatchDataset":
        from hookseg.sampling.dataset import PatchDataset

        return PatchDataset
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)

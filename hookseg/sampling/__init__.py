"""Patch index, class-balanced draws and the paired field-of-view dataset."""

from hookseg.sampling.balance import BalancedSampler, batch_composition
from hookseg.sampling.dataset import FieldOfView, PatchDataset, SlideSource, sources_from_records
from hookseg.sampling.index import IndexParams, build_index, index_slide
from hookseg.sampling.labels import open_labels, read_labels, read_labels_at_center, write_label_raster

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

"""Annotations: QuPath GeoJSON, ASAP XML, DSA JSON and label masks in; GeoJSON and ASAP out; class
clubbing; rasterising to label masks. Everything is in slide level-0 pixels (x right, y down)."""

from hookseg.annotations.classes import ClassMap, normalize_label
from hookseg.annotations.model import Annotation, AnnotationSet, AnnotationWarning
from hookseg.annotations.rasterize import rasterize
from hookseg.annotations.registry import read_annotations, write_annotations

__all__ = [
    "Annotation",
    "AnnotationSet",
    "AnnotationWarning",
    "ClassMap",
    "normalize_label",
    "rasterize",
    "read_annotations",
    "write_annotations",
]

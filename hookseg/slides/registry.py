"""``open_slide``: pick the reader for a file. Backends are imported lazily from an explicit registry."""

from __future__ import annotations

import importlib
from pathlib import Path

from hookseg.errors import SlideError
from hookseg.slides.base import SlideReader

READERS: dict[str, tuple[str, str]] = {
    "openslide": ("hookseg.slides.openslide_reader", "OpenSlideReader"),
    "tifffile": ("hookseg.slides.tifffile_reader", "TiffFileReader"),
    "image": ("hookseg.slides.array_reader", "ImageFileReader"),
}
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
# TIFF-based containers: when OpenSlide does not recognise one, tifffile says precisely what is wrong.
_TIFF_SUFFIXES = {".tif", ".tiff", ".btf", ".svs", ".ndpi", ".scn", ".bif"}


def reader_class(backend: str) -> type[SlideReader]:
    try:
        module, name = READERS[backend]
    except KeyError:
        msg = f"Unknown slide backend {backend!r}. Expected one of: {', '.join(READERS)}"
        raise SlideError(msg) from None
    return getattr(importlib.import_module(module), name)


def detect_backend(path: Path) -> str:
    """OpenSlide for what it recognises; tifffile for other TIFFs (OME-TIFF, SubIFDs); PIL for images."""
    suffix = path.suffix.lower()
    if suffix in _IMAGE_SUFFIXES:
        return "image"
    if path.name.lower().endswith((".ome.tif", ".ome.tiff")):
        return "tifffile"
    import openslide

    try:
        vendor = openslide.OpenSlide.detect_format(str(path))
    except openslide.OpenSlideError:
        vendor = None
    if vendor is not None:
        return "openslide"
    if suffix in _TIFF_SUFFIXES:
        return "tifffile"
    msg = (
        f"{path}: not a recognised slide (OpenSlide does not know it and the suffix {suffix!r} is not "
        f"one of {sorted(_TIFF_SUFFIXES | _IMAGE_SUFFIXES)})"
    )
    raise SlideError(msg, path=path)


def open_slide(path: str | Path, *, mpp: float | None = None, backend: str | None = None) -> SlideReader:
    """Open ``path`` with the right backend. ``mpp`` overrides (or supplies missing) metadata.

    Refused here, naming the file: a folder, a missing file, an mpp outside [0.05, 100] or not finite, and a
    TIFF-family file whose tiles point past its end (``hookseg.slides.integrity``).
    """
    from hookseg.slides.integrity import TIFF_SUFFIXES, check_mpp, check_tiff_complete

    path = Path(path)
    if path.is_dir():
        msg = f"{path}: a folder, not a slide file (MRXS: give the .mrxs file beside its folder)"
        raise SlideError(msg, path=path)
    if not path.is_file():
        msg = f"{path}: no such slide file"
        raise SlideError(msg, path=path)
    if mpp is not None:
        check_mpp(mpp, f"{path}: mpp")
    if path.suffix.lower() in TIFF_SUFFIXES:
        check_tiff_complete(path)
    return reader_class(backend or detect_backend(path))(path, mpp=mpp)

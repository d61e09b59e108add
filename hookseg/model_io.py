"""Save and load ``.keras`` models together with their metadata (``hookseg.model_meta``).

The metadata (fields of view, class map, stage) is one extra member, ``hookseg.json``, inside the ``.keras``
zip, so a model file alone tells prediction how to read any slide and what its classes are; Keras ignores the
extra member on load. Reading only the metadata needs no Keras: use ``hookseg.model_meta.read_meta``.
"""

from __future__ import annotations

import zipfile
from functools import lru_cache
from pathlib import Path

import keras

from hookseg.errors import ModelError
from hookseg.io import atomic_path
from hookseg.model_meta import META_MEMBER, ModelMeta, read_meta

__all__ = ["ModelMeta", "load_model", "load_model_cached", "read_meta", "save_model"]


def save_model(model: keras.Model, path: str | Path, meta: ModelMeta) -> Path:
    """Save ``model`` as .keras with its metadata, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        model.save(tmp)
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(META_MEMBER, meta.to_json())
    return path


def load_model(path: str | Path) -> tuple[keras.Model, ModelMeta]:
    """The model (safe_mode on, not compiled) and its metadata."""
    if Path(path).is_dir():  # read_meta reads an export folder, but only `hookseg predict` can run one
        msg = f"{path}: an export folder; this needs the trained .keras model it was exported from"
        raise ModelError(msg, path=path)
    meta = read_meta(path)
    # Importing these registers hookseg's serializable layers, losses and metrics with Keras.
    import hookseg.losses
    import hookseg.metrics
    import hookseg.model  # noqa: F401 - the three imports register serializables with Keras

    return keras.saving.load_model(path, compile=False, safe_mode=True), meta


def load_model_cached(path: str | Path) -> tuple[keras.Model, ModelMeta]:
    """``load_model`` once per process (and again if the file changes): Ray workers serve many slides."""
    path = Path(path).resolve()
    return _load_model_keyed(str(path), path.stat().st_mtime)


@lru_cache(maxsize=2)
def _load_model_keyed(path: str, mtime: float) -> tuple[keras.Model, ModelMeta]:
    return load_model(path)

"""Saved models carry their input geometry: the mpp and size of each branch and the class names.

The metadata is one extra member, ``hookseg.json``, inside the ``.keras`` zip, so a model file alone tells
prediction how to read any slide (whatever its scanner's pyramid); Keras ignores the extra member on load.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import keras

from hookseg.errors import ConfigError
from hookseg.io import atomic_path
from hookseg.sampling.views import FieldOfView

META_MEMBER = "hookseg.json"


@dataclass(frozen=True)
class ModelMeta:
    fov: FieldOfView
    class_names: tuple[str, ...] = ("background", "tumour", "other")
    stage: str = ""

    def to_json(self) -> str:
        return json.dumps({"fov": asdict(self.fov), "class_names": list(self.class_names), "stage": self.stage})

    @classmethod
    def from_json(cls, text: str) -> ModelMeta:
        data = json.loads(text)
        return cls(FieldOfView(**data["fov"]), tuple(data["class_names"]), data.get("stage", ""))


def save_model(model: keras.Model, path: str | Path, meta: ModelMeta) -> Path:
    """Save ``model`` as .keras with its metadata, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        model.save(tmp)
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(META_MEMBER, meta.to_json())
    return path


def read_meta(path: str | Path) -> ModelMeta:
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return ModelMeta.from_json(archive.read(META_MEMBER).decode())
    except FileNotFoundError:
        msg = f"{path}: model file not found"
        raise ConfigError(msg, path=path) from None
    except (zipfile.BadZipFile, KeyError) as err:
        msg = f"{path}: not a hookseg .keras model ({err}); train one with `hookseg train`"
        raise ConfigError(msg, path=path) from None


def load_model(path: str | Path) -> tuple[keras.Model, ModelMeta]:
    """The model (safe_mode on, not compiled) and its metadata."""
    meta = read_meta(path)
    import hookseg.losses  # noqa: F401, PLC0415 - registers serializable objects
    import hookseg.metrics  # noqa: F401, PLC0415
    import hookseg.model  # noqa: F401, PLC0415

    return keras.saving.load_model(path, compile=False, safe_mode=True), meta


def load_model_cached(path: str | Path) -> tuple[keras.Model, ModelMeta]:
    """``load_model`` once per process (and again if the file changes): Ray workers serve many slides."""
    path = Path(path).resolve()
    return _load_model_keyed(str(path), path.stat().st_mtime)


@lru_cache(maxsize=2)
def _load_model_keyed(path: str, mtime: float) -> tuple[keras.Model, ModelMeta]:
    return load_model(path)

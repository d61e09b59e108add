"""What a model says about itself, readable without Keras: fields of view, class map, stage, tissue mask.

The ``.keras`` zip carries one extra member, ``hookseg.json``; an export folder (``hookseg export``) carries
``hookseg-export.json`` beside its graph. Reading either needs only ``zipfile`` and ``json``, so scoring
existing predictions, configs, the sampler and ONNX prediction can name a ``FieldOfView`` or a model's
classes without importing a backend. Saving and loading the network itself live in ``hookseg.model_io``.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookseg.errors import ModelError

if TYPE_CHECKING:
    from hookseg.annotations.classes import ClassMap

META_MEMBER = "hookseg.json"
EXPORT_SIDECAR = "hookseg-export.json"


@dataclass(frozen=True)
class FieldOfView:
    """The pixels one sample sees: target size and mpp, and the context branch's (None: single resolution)."""

    size: int = 512
    mpp: float = 0.5
    context_size: int = 512
    context_mpp: float | None = 2.0

    @property
    def context_ratio(self) -> int | None:
        """Context mpp over target mpp: the dual model's ``context_ratio`` (None without a context branch)."""
        return None if self.context_mpp is None else round(self.context_mpp / self.mpp)


def _default_class_map() -> ClassMap:
    from hookseg.annotations.classes import ClassMap

    return ClassMap.default()


@dataclass(frozen=True)
class ModelMeta:
    fov: FieldOfView
    class_map: ClassMap = field(default_factory=_default_class_map)
    stage: str = ""
    # The ``tissue`` section (configs/slides.yaml's keys) the model trained with, so prediction tiles what
    # training sampled; None for a model saved before models recorded it (configs/slides.yaml's then).
    tissue: dict[str, float] | None = None

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.class_map.names

    def to_json(self) -> str:
        return json.dumps({"fov": asdict(self.fov), "class_names": list(self.class_names),
                           "class_map": self.class_map.to_dict(), "stage": self.stage, "tissue": self.tissue})

    @classmethod
    def from_json(cls, text: str, source: str | Path = META_MEMBER) -> ModelMeta:
        data = json.loads(text)
        return cls(FieldOfView(**data["fov"]), _class_map_of(data, source), data.get("stage", ""),
                   data.get("tissue"))


def _class_map_of(data: dict[str, Any], source: str | Path) -> ClassMap:
    """The saved class map; a model saved before maps were stored gets configs/classes.yaml if names match."""
    from hookseg.annotations.classes import ClassMap

    if "class_map" in data:
        return ClassMap.from_dict(data["class_map"], source=f"{source}:class_map")
    fallback = ClassMap.default()
    names = tuple(data.get("class_names", ()))
    if names != fallback.names:
        msg = (f"{source}:class_map: expected a saved class map, or class_names equal to {fallback.path}'s "
               f"{list(fallback.names)}. Received: class_names={list(names)}; retrain with "
               "`hookseg train --classes`")
        raise ModelError(msg, path=source)
    return fallback


def read_meta(path: str | Path) -> ModelMeta:
    """The metadata of a hookseg ``.keras`` file or export folder (no Keras import)."""
    path = Path(path)
    if path.is_dir():
        return _export_meta(path)
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read(META_MEMBER).decode()
    except FileNotFoundError:
        msg = f"{path}: model file not found"
        raise ModelError(msg, path=path) from None
    except (zipfile.BadZipFile, KeyError) as err:
        msg = f"{path}: not a hookseg .keras model ({err}); train one with `hookseg train`"
        raise ModelError(msg, path=path) from None
    return ModelMeta.from_json(text, source=f"{path}:{META_MEMBER}")


def read_export(folder: str | Path) -> dict[str, Any]:
    """An export folder's sidecar, checked here so a bad folder fails in one line naming the file at fault."""
    sidecar = Path(folder) / EXPORT_SIDECAR
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{sidecar}: not found; {folder} is not a hookseg export (make one with `hookseg export`)"
        raise ModelError(msg, path=sidecar) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        msg = f"{sidecar}: not valid JSON ({err}); re-export with `hookseg export`"
        raise ModelError(msg, path=sidecar) from None
    if not isinstance(data, dict):
        msg = f"{sidecar}: expected a JSON object. Received: {type(data).__name__}; re-export the model"
        raise ModelError(msg, path=sidecar)
    missing = [k for k in ("format", "inputs", "outputs", "fields_of_view") if k not in data]
    if missing:
        msg = f"{sidecar}: missing {missing[0]!r}; re-export with `hookseg export`"
        raise ModelError(msg, path=sidecar)
    named = data.get("file")
    if named is not None and not (Path(folder) / str(named)).is_file():
        msg = f"{Path(folder) / str(named)}: model file not found (named by {sidecar})"
        raise ModelError(msg, path=Path(folder) / str(named))
    return data


def _export_meta(folder: Path) -> ModelMeta:
    """``ModelMeta`` from a sidecar; one written before it held the class map falls back on class names."""
    data = read_export(folder)
    source = folder / EXPORT_SIDECAR
    try:
        fov = FieldOfView(**data["fields_of_view"])
    except TypeError as err:
        msg = f"{source}:fields_of_view: {err}"
        raise ModelError(msg, path=source) from None
    names = {"class_names": [c.get("name") for c in data.get("classes", []) if isinstance(c, dict)]}
    return ModelMeta(fov, _class_map_of(data if "class_map" in data else names, source),
                     str(data.get("hookseg_stage", "")), data.get("tissue"))

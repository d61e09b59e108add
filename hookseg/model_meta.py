"""What a model file says about itself, readable without Keras: fields of view, class map, stage.

The ``.keras`` zip carries one extra member, ``hookseg.json``. Reading it needs only ``zipfile`` and ``json``,
so scoring existing predictions, configs and the sampler can name a ``FieldOfView`` or a model's classes
without importing a backend. Saving and loading the network itself live in ``hookseg.model_io``.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookseg.errors import ConfigError

if TYPE_CHECKING:
    from hookseg.annotations.classes import ClassMap

META_MEMBER = "hookseg.json"


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

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.class_map.names

    def to_json(self) -> str:
        return json.dumps({"fov": asdict(self.fov), "class_names": list(self.class_names),
                           "class_map": self.class_map.to_dict(), "stage": self.stage})

    @classmethod
    def from_json(cls, text: str, source: str | Path = META_MEMBER) -> ModelMeta:
        data = json.loads(text)
        return cls(FieldOfView(**data["fov"]), _class_map_of(data, source), data.get("stage", ""))


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
        raise ConfigError(msg, path=source)
    return fallback


def read_meta(path: str | Path) -> ModelMeta:
    """The metadata of a hookseg ``.keras`` file (no Keras import)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read(META_MEMBER).decode()
    except FileNotFoundError:
        msg = f"{path}: model file not found"
        raise ConfigError(msg, path=path) from None
    except (zipfile.BadZipFile, KeyError) as err:
        msg = f"{path}: not a hookseg .keras model ({err}); train one with `hookseg train`"
        raise ConfigError(msg, path=path) from None
    return ModelMeta.from_json(text, source=f"{path}:{META_MEMBER}")

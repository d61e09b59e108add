"""``configs/augment.yaml`` -> a frozen ``AugmentConfig`` of presets, checked at load (errors name file:key).

The file holds presets only; the phase schedule (which presets each phase trains with) lives in params.yaml.
The structure is read by ``hookseg.config.from_mapping``; a preset is a list of items, each one of:

* ``{name: <registry key>, p: <prob>, <argument>: <value>, ...}``: one transform;
* ``{one_of: [<transform items>], p: <prob>}``: pick one (albumentations ``OneOf``; colour or
  acquisition transforms of a single stage only); a member's ``p`` is its relative weight;
* ``{preset: <other preset>}``: include another preset's items.

Every transform is built once at load, so a wrong argument fails here, not in the middle of an epoch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn

from hookseg.augment import registry
from hookseg.config import CONFIG_DIR, from_mapping, load_yaml
from hookseg.errors import ConfigError

DEFAULT_CONFIG = CONFIG_DIR / "augment.yaml"
_SHARED_STAGES = ("style", "stain", "color", "acquisition")


@dataclass(frozen=True)
class Border:
    """Image fill where a warp pulls in pixels from outside the view (labels always get ``ignore_index``)."""

    image: Literal["reflect_101", "reflect", "replicate", "constant"] = "reflect_101"
    image_value: tuple[int, int, int] = (255, 255, 255)  # used when image: constant (glass-white)


@dataclass(frozen=True)
class _File:
    presets: dict[str, list[dict[str, Any]]]
    ignore_index: int = 255
    border: Border = field(default_factory=Border)


@dataclass(frozen=True)
class _Head:
    """``name`` and ``p`` of a transform item; its other keys are the transform's own arguments."""

    name: str
    p: float


@dataclass(frozen=True)
class _OneOf:
    one_of: list[dict[str, Any]]
    p: float


@dataclass(frozen=True)
class _Include:
    preset: str


@dataclass(frozen=True)
class TransformSpec:
    name: str
    p: float
    params: Mapping[str, Any]
    where: str  # "presets.basic[2]": where it was written, for errors and de-duplication

    @property
    def stage(self) -> str:
        return registry.stage_of(self.name)


@dataclass(frozen=True)
class OneOfSpec:
    members: tuple[TransformSpec, ...]
    p: float
    where: str

    @property
    def stage(self) -> str:
        return self.members[0].stage


Spec = TransformSpec | OneOfSpec


@dataclass(frozen=True)
class AugmentConfig:
    source: str
    presets: Mapping[str, tuple[Spec, ...]]  # includes expanded
    ignore_index: int = 255
    border: Border = field(default_factory=Border)

    def preset(self, name: str) -> tuple[Spec, ...]:
        if name not in self.presets:
            _fail(self.source, "presets", f"a preset name, one of {sorted(self.presets)}", name)
        return self.presets[name]


def load_config(path: str | Path | None = None) -> AugmentConfig:
    """Read and validate an augmentation config; ``None`` reads the repository's ``configs/augment.yaml``."""
    path = Path(DEFAULT_CONFIG if path is None else path)
    return parse_config(load_yaml(path), source=str(path))


def _fail(source: str, key: str, expected: str, value: Any) -> NoReturn:
    msg = f"{source}:{key}: expected {expected}. Received: {value!r}"
    raise ConfigError(msg, path=source)


def _probability(p: float, source: str, key: str) -> float:
    if not 0.0 <= p <= 1.0:
        _fail(source, key, "a probability in [0, 1]", p)
    return p


def _transform(item: dict[str, Any], source: str, where: str) -> TransformSpec:
    head = from_mapping(_Head, {k: item[k] for k in ("name", "p") if k in item}, source=source, key=where)
    if head.name not in registry.TRANSFORMS:
        _fail(source, f"{where}.name", f"a transform name, one of {sorted(registry.TRANSFORMS)}", head.name)
    p = _probability(head.p, source, f"{where}.p")
    params = {k: v for k, v in item.items() if k not in ("name", "p")}
    try:
        registry.instantiate(head.name, p, params)
    except ValueError as err:
        _fail(source, where, f"arguments that {head.name!r} takes ({err})", params)
    return TransformSpec(head.name, p, params, where)


def _one_of(item: dict[str, Any], source: str, where: str) -> OneOfSpec:
    raw = from_mapping(_OneOf, item, source=source, key=where)
    if not raw.one_of:
        _fail(source, f"{where}.one_of", "a non-empty list of transforms", raw.one_of)
    members = []
    for i, member in enumerate(raw.one_of):
        spec = _transform(member, source, f"{where}.one_of[{i}]")
        if spec.p <= 0:  # a member's p is its weight
            _fail(source, f"{where}.one_of[{i}].p", "a weight > 0", spec.p)
        members.append(spec)
    stages = sorted({m.stage for m in members})
    if len(stages) != 1 or stages[0] not in _SHARED_STAGES:
        _fail(source, f"{where}.one_of", f"members of one of the stages {list(_SHARED_STAGES)}", stages)
    return OneOfSpec(tuple(members), _probability(raw.p, source, f"{where}.p"), where)


def _item(item: dict[str, Any], source: str, where: str) -> Spec | str:
    """One preset entry -> a spec, or the name of an included preset."""
    kinds = [k for k in ("name", "one_of", "preset") if k in item]
    if len(kinds) != 1:
        _fail(source, where, "a mapping with exactly one of `name`, `one_of`, `preset`", item)
    if kinds[0] == "name":
        return _transform(item, source, where)
    if kinds[0] == "one_of":
        return _one_of(item, source, where)
    return from_mapping(_Include, item, source=source, key=where).preset


def _expand(
    name: str, raw: Mapping[str, list[Spec | str]], source: str, seen: tuple[str, ...]
) -> tuple[Spec, ...]:
    if name in seen:
        _fail(source, f"presets.{name}", "presets that do not include each other in a cycle", [*seen, name])
    out: list[Spec] = []
    for entry in raw[name]:
        if isinstance(entry, str):
            if entry not in raw:
                _fail(source, f"presets.{name}", f"to include a known preset, one of {sorted(raw)}", entry)
            out.extend(_expand(entry, raw, source, (*seen, name)))
        else:
            out.append(entry)
    return tuple(out)


def parse_config(data: Mapping[str, Any], *, source: str = "<config>") -> AugmentConfig:
    raw = from_mapping(_File, data, source=source)
    if not 0 <= raw.ignore_index <= 255:
        _fail(source, "ignore_index", "an integer in [0, 255]", raw.ignore_index)
    if not all(0 <= v <= 255 for v in raw.border.image_value):
        _fail(source, "border.image_value", "three integers in [0, 255]", list(raw.border.image_value))
    if not raw.presets:
        _fail(source, "presets", "a non-empty mapping of preset name -> list", raw.presets)
    parsed = {
        name: [_item(item, source, f"presets.{name}[{i}]") for i, item in enumerate(items)]
        for name, items in raw.presets.items()
    }
    presets = {name: _expand(name, parsed, source, ()) for name in parsed}
    return AugmentConfig(source=source, presets=presets, ignore_index=raw.ignore_index, border=raw.border)

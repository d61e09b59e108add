"""``configs/augment.yaml`` -> a frozen ``AugmentConfig``, validated at load (errors name file:key).

A preset is a list of items, each one of:

* ``{name: <registry key>, p: <prob>, <argument>: <value>, ...}``: one transform;
* ``{one_of: [<transform items>], p: <prob>}``: pick one (albumentations ``OneOf``; colour or
  acquisition transforms of a single stage only); a member's ``p`` is its relative weight;
* ``{preset: <other preset>}``: include another preset's items.

``phases`` maps a training phase to its list of presets (paper Table 8). Every transform is built once at
load, so a wrong argument fails here, not in the middle of an epoch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hookseg.augment import registry
from hookseg.config import CONFIG_DIR, load_yaml
from hookseg.errors import ConfigError

DEFAULT_CONFIG = CONFIG_DIR / "augment.yaml"
BORDER_MODES = ("reflect_101", "reflect", "replicate", "constant")
_TOP_KEYS = {"ignore_index", "border", "presets", "phases"}
_SHARED_STAGES = ("style", "stain", "color", "acquisition")


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
    presets: Mapping[str, tuple[Spec, ...]]
    phases: Mapping[str, tuple[str, ...]]
    ignore_index: int = 255
    image_border: str = "reflect_101"
    image_fill: tuple[int, int, int] = (255, 255, 255)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def preset(self, name: str) -> tuple[Spec, ...]:
        if name not in self.presets:
            valid = sorted(self.presets)
            msg = f"{self.source}: unknown augmentation preset. Received: {name!r}. Expected one of: {valid}"
            raise ConfigError(msg, path=self.source)
        return self.presets[name]

    def phase(self, name: str) -> tuple[str, ...]:
        if name not in self.phases:
            msg = f"{self.source}: unknown phase. Received: {name!r}. Expected one of: {sorted(self.phases)}"
            raise ConfigError(msg, path=self.source)
        return self.phases[name]


def load_config(path: str | Path | None = None) -> AugmentConfig:
    """Read and validate an augmentation config; ``None`` reads the repository's ``configs/augment.yaml``."""
    path = Path(DEFAULT_CONFIG if path is None else path)
    return parse_config(load_yaml(path), source=str(path))


def _fail(source: str, key: str, text: str) -> ConfigError:
    return ConfigError(f"{source}:{key}: {text}", path=source)


def _probability(value: Any, source: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise _fail(source, key, f"expected a probability in [0, 1]. Received: p={value!r}")
    return float(value)


def _transform(item: dict[str, Any], source: str, where: str) -> TransformSpec:
    name = item.get("name")
    if name not in registry.TRANSFORMS:
        text = f"unknown transform. Received: name={name!r}. Expected one of: {sorted(registry.TRANSFORMS)}"
        raise _fail(source, f"{where}.name", text)
    if "p" not in item:
        raise _fail(source, f"{where}.p", f"missing the probability `p` of transform {name!r}")
    p = _probability(item["p"], source, f"{where}.p")
    params = {k: v for k, v in item.items() if k not in ("name", "p")}
    try:
        registry.instantiate(name, p, params)
    except ValueError as err:
        raise _fail(source, where, f"invalid arguments for {name!r}: {err}") from None
    return TransformSpec(name, p, params, where)


def _item(item: Any, source: str, where: str) -> Spec | str:
    """One preset entry -> a spec, or the name of an included preset."""
    kinds = [k for k in ("name", "one_of", "preset") if isinstance(item, dict) and k in item]
    if len(kinds) != 1:
        text = f"expected a mapping with exactly one of `name`, `one_of`, `preset`. Received: {item!r}"
        raise _fail(source, where, text)
    if kinds[0] == "name":
        return _transform(item, source, where)
    if kinds[0] == "preset":
        if set(item) != {"preset"}:
            raise _fail(source, where, f"a preset include takes no other keys. Received: {sorted(item)}")
        return str(item["preset"])
    extra = set(item) - {"one_of", "p"}
    if extra or "p" not in item:
        raise _fail(source, where, f"`one_of` takes exactly the keys one_of and p. Received: {sorted(item)}")
    members = item["one_of"]
    if not isinstance(members, list) or not members:
        raise _fail(source, f"{where}.one_of", f"expected a non-empty list. Received: {members!r}")
    specs = []
    for i, member in enumerate(members):
        if not isinstance(member, dict) or "name" not in member:
            raise _fail(
                source, f"{where}.one_of[{i}]", f"expected a transform with `name`. Received: {member!r}"
            )
        spec = _transform(member, source, f"{where}.one_of[{i}]")
        if spec.p <= 0:
            raise _fail(
                source,
                f"{where}.one_of[{i}].p",
                f"a one_of member's p is its weight, so > 0. Received: p={spec.p}",
            )
        specs.append(spec)
    stages = {s.stage for s in specs}
    if len(stages) != 1 or not stages <= set(_SHARED_STAGES):
        text = (
            f"members must share one of the stages {list(_SHARED_STAGES)}. Received stages: {sorted(stages)}"
        )
        raise _fail(source, f"{where}.one_of", text)
    return OneOfSpec(tuple(specs), _probability(item["p"], source, f"{where}.p"), where)


def _expand(
    name: str, raw: Mapping[str, list[Spec | str]], source: str, seen: tuple[str, ...]
) -> tuple[Spec, ...]:
    if name in seen:
        raise _fail(
            source, f"presets.{name}", f"presets include each other in a cycle: {' -> '.join((*seen, name))}"
        )
    out: list[Spec] = []
    for entry in raw[name]:
        if isinstance(entry, str):
            if entry not in raw:
                text = f"includes an unknown preset. Received: {entry!r}. Expected one of: {sorted(raw)}"
                raise _fail(source, f"presets.{name}", text)
            out.extend(_expand(entry, raw, source, (*seen, name)))
        else:
            out.append(entry)
    return tuple(out)


def parse_config(data: Mapping[str, Any], *, source: str = "<config>") -> AugmentConfig:
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise _fail(source, unknown[0], f"unknown key. Expected some of: {sorted(_TOP_KEYS)}")
    ignore = data.get("ignore_index", 255)
    if isinstance(ignore, bool) or not isinstance(ignore, int) or not 0 <= ignore <= 255:
        raise _fail(
            source, "ignore_index", f"expected an integer in [0, 255]. Received: ignore_index={ignore!r}"
        )
    border = data.get("border", {}) or {}
    if not isinstance(border, dict) or set(border) - {"image", "image_value"}:
        raise _fail(
            source, "border", f"expected a mapping with keys image, image_value. Received: {border!r}"
        )
    mode = border.get("image", "reflect_101")
    if mode not in BORDER_MODES:
        raise _fail(source, "border.image", f"expected one of {list(BORDER_MODES)}. Received: {mode!r}")
    fill = border.get("image_value", [255, 255, 255])
    if (
        not isinstance(fill, list)
        or len(fill) != 3
        or not all(isinstance(v, int) and 0 <= v <= 255 for v in fill)
    ):
        raise _fail(source, "border.image_value", f"expected three integers in [0, 255]. Received: {fill!r}")

    presets_raw = data.get("presets")
    if not isinstance(presets_raw, dict) or not presets_raw:
        raise _fail(
            source,
            "presets",
            f"expected a non-empty mapping of preset name -> list. Received: {presets_raw!r}",
        )
    parsed: dict[str, list[Spec | str]] = {}
    for name, items in presets_raw.items():
        if not isinstance(items, list):
            raise _fail(source, f"presets.{name}", f"expected a list of transforms. Received: {items!r}")
        parsed[str(name)] = [_item(item, source, f"presets.{name}[{i}]") for i, item in enumerate(items)]
    presets = {name: _expand(name, parsed, source, ()) for name in parsed}

    phases_raw = data.get("phases", {}) or {}
    if not isinstance(phases_raw, dict):
        raise _fail(
            source, "phases", f"expected a mapping of phase -> list of presets. Received: {phases_raw!r}"
        )
    phases: dict[str, tuple[str, ...]] = {}
    for phase, names in phases_raw.items():
        if not isinstance(names, list) or not all(n in presets for n in names):
            text = f"expected a list of preset names from {sorted(presets)}. Received: {names!r}"
            raise _fail(source, f"phases.{phase}", text)
        phases[str(phase)] = tuple(names)
    return AugmentConfig(
        source=source,
        presets=presets,
        phases=phases,
        ignore_index=ignore,
        image_border=mode,
        image_fill=tuple(fill),
        raw=dict(data),
    )

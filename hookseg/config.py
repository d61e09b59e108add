"""YAML configs into frozen dataclasses, validated at load: errors say file:key, expected and received."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from hookseg.errors import ConfigError

T = TypeVar("T")
CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Parse a YAML mapping; a missing file, bad syntax or a non-mapping top level is a ConfigError."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: config file not found"
        raise ConfigError(msg, path=path) from None
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" line {where.line + 1}" if where else ""
        msg = f"{path}:{line} invalid YAML ({getattr(err, 'problem', err)})"
        raise ConfigError(msg, path=path) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        msg = f"{path}: expected a mapping at the top level. Received: {type(data).__name__}"
        raise ConfigError(msg, path=path)
    return data


def from_mapping(cls: type[T], mapping: Any, *, source: str | Path, key: str = "") -> T:
    """Build dataclass ``cls`` from ``mapping``; unknown keys, missing keys and wrong types are errors.

    Defaults of the dataclass fill keys the mapping leaves out. Numbers are accepted as floats where the
    field is a float; nested dataclasses are built recursively.
    """
    prefix = f"{source}:{key}" if key else f"{source}"
    if not isinstance(mapping, dict):
        msg = f"{prefix}: expected a mapping. Received: {mapping!r}"
        raise ConfigError(msg, path=source)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(mapping) - set(fields))
    if unknown:
        msg = f"{prefix}: unknown key(s) {unknown}. Expected some of: {sorted(fields)}"
        raise ConfigError(msg, path=source)
    hints = typing.get_type_hints(cls)
    values = {}
    for name, field in fields.items():
        dotted = f"{key}.{name}" if key else name
        if name not in mapping:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                msg = f"{source}:{dotted}: required key is missing"
                raise ConfigError(msg, path=source)
            continue
        values[name] = _coerce(hints[name], mapping[name], source, dotted)
    return cls(**values)


def _coerce(hint: Any, value: Any, source: str | Path, key: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return from_mapping(hint, value, source=source, key=key)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        given = [o for o in options if o is not type(None)]
        if len(given) == 1:  # Optional[X]: X's own error names the key at fault, not "X | None"
            return _coerce(given[0], value, source, key)
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value, source, key)
            except ConfigError:
                continue
        _fail(source, key, hint, value)
    if origin is typing.Literal:
        if value not in typing.get_args(hint):
            _fail(source, key, f"one of {list(typing.get_args(hint))}", value)
        return value
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            _fail(source, key, "a list", value)
        args = typing.get_args(hint)
        if origin is tuple and len(args) > 1 and args[-1] is not Ellipsis:  # fixed length: tuple[int, int]
            if len(value) != len(args):
                _fail(source, key, f"a list of {len(args)} items", value)
            pairs = enumerate(zip(args, value, strict=True))
            return tuple(_coerce(a, v, source, f"{key}[{i}]") for i, (a, v) in pairs)
        item = args[0] if args else Any
        return origin(_coerce(item, v, source, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            _fail(source, key, "a mapping", value)
        _, item = typing.get_args(hint) or (Any, Any)
        return {k: _coerce(item, v, source, f"{key}.{k}") for k, v in value.items()}
    if hint is Any:
        return value
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint in (str, bool) and isinstance(value, hint):
        return value
    _fail(source, key, getattr(hint, "__name__", hint), value)
    return None


def _fail(source: str | Path, key: str, expected: Any, value: Any) -> typing.NoReturn:
    msg = f"{source}:{key}: expected {expected}. Received: {value!r}"
    raise ConfigError(msg, path=source)


def read_section(cls: type[T], path: str | Path, section: str) -> T:
    """A file holding one section (``infer:``): another top-level key is an error, not silently ignored."""
    path = Path(path)
    data = load_yaml(path)
    if set(data) != {section}:
        msg = f"{path}: expected exactly one top-level key {section!r}. Received: {sorted(data)}"
        raise ConfigError(msg, path=path)
    return from_mapping(cls, data[section], source=path, key=section)


@functools.cache
def load_section(cls: type[T], path: Path, section: str) -> T:
    """``read_section`` read once per (class, path): for defaults that many calls (one per slide) ask for."""
    return read_section(cls, path, section)

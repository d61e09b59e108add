"""Every file in configs/ is read by the code it configures, and every key in it is consumed by something.

How "consumed" is checked, for each config file in ``LOADERS``:

1. the loader reads the whole file and rejects a key it does not know, at every level (an extra key is
   injected into each mapping and must raise ``ConfigError``), so no key is silently ignored;
2. every leaf key path of the file lands on a field of the loader's frozen dataclasses (``SCHEMAS``);
3. every field of those dataclasses is read as ``.field`` in project code (hookseg, pseudo_label,
   stylegan_aug; not tests), outside the dataclass's own body and outside validation-only functions.

Free-form mappings (keys chosen by the user, values passed on as a whole) are consumed as a whole by the
code named in ``FREE_FORM``; their inner keys are not checked. Step 3 goes by name, so it is the loose half:
a field that shares its name with another attribute passes; steps 1-2 are strict.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import json
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hookseg.config import CONFIG_DIR, load_yaml
from hookseg.errors import ConfigError

ROOT = CONFIG_DIR.parent
CODE = ("hookseg", "pseudo_label", "stylegan_aug")


def _sections(load: Callable[[Path, str], object]) -> Callable[[Path], object]:
    """A loader for files whose top-level keys are sections (stages, profiles) each read by ``load``."""
    return lambda path: [load(path, section) for section in load_yaml(path)]


def _stage(path: Path, stage: str) -> object:
    from hookseg.train.config import load_stage_config

    return load_stage_config(path, stage)


def _profile(path: Path, profile: str) -> object:
    from stylegan_aug.config import load_config

    return load_config(path, profile)


def _infer(path: Path) -> object:
    from hookseg.infer.params import InferParams

    return InferParams.from_yaml(path)


def _tissue(path: Path) -> object:
    from hookseg.slides.tissue import TissueParams

    return TissueParams.from_yaml(path)


def _classes(path: Path) -> object:
    from hookseg.annotations.classes import ClassMap

    return ClassMap.from_yaml(path)


def _augment(path: Path) -> object:
    from hookseg.augment.config import load_config

    return load_config(path)


# config file -> the callable that reads all of it (raises ConfigError on an unknown key).
LOADERS: dict[str, Callable[[Path], object]] = {
    "slides.yaml": _tissue,
    "infer.yaml": _infer,
    "stylegan.yaml": _sections(_profile),
    "classes.yaml": _classes,
    "smoke.yaml": _sections(_stage),
    "demo.yaml": _sections(_stage),
    "paper.yaml": _sections(_stage),
    "augment.yaml": _augment,
}
# config file -> top-level key -> "module:Dataclass" it is validated into ("" key: the whole file).
_STAGES = {"base": "hookseg.train.config:StageConfig", "master": "hookseg.train.config:StageConfig"}
SCHEMAS: dict[str, dict[str, str]] = {
    "slides.yaml": {"tissue": "hookseg.slides.tissue:TissueParams"},
    "infer.yaml": {"infer": "hookseg.infer.params:InferParams"},
    "stylegan.yaml": dict.fromkeys(("demo", "smoke", "paper"), "stylegan_aug.config:StyleGANConfig"),
    "classes.yaml": {"": "hookseg.annotations.classes:_ClassesFile"},
    "smoke.yaml": _STAGES,
    "demo.yaml": _STAGES,
    "paper.yaml": _STAGES,
    "augment.yaml": {"": "hookseg.augment.config:_File"},
}
# Config files whose entry is switched off while their loader is rewritten: name -> reason (shown as a skip).
PENDING: dict[str, str] = {}
# "Dataclass.field" holding a free-form mapping -> the code that consumes it as a whole.
FREE_FORM: dict[str, str] = {
    "InferParams.thresholds": "hookseg/infer/postprocess.py labels_from_probs: class name -> threshold",
    "ModelSpec.kwargs": "hookseg/train: create_model(arch, **kwargs), the model constructor's arguments",
    "DataSpec.ratios": "hookseg/sampling/balance.py: class id -> share of each batch",
    "TrainSpec.branch_weights": "hookseg/train: output branch name -> loss weight",
    "_File.presets": "hookseg/augment/config.py parse_config: each item checked by _Head/_OneOf/_Include, "
                     "its arguments by registry.instantiate (albumentations)",
    "_ClassesFile.clubbing": "hookseg/annotations/classes.py ClassMap.club_name: source label -> class name",
}
# "Dataclass.field" that no code acts on but that is kept for people -> where it goes.
FOR_PEOPLE: dict[str, str] = {
    "ClassSpec.description": "carried into the model's hookseg.json by ClassMap.to_dict (dataclasses.asdict)",
}
# Functions that only validate a config: a field read there alone is not consumed.
VALIDATION_ONLY = {"_validate", "_check_geometry"}
# The empty style bank is JSON written and read by stylegan_aug/bank.py (write_bank / load_bank).
JSON_FILES = {"style_bank_empty.json"}


def _resolve(spec: str) -> type:
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


# ---- the schema walk: YAML key paths -> (dataclass, field) ------------------------------------------------


def _options(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(h for h in typing.get_args(hint) if h is not type(None))
    return (hint,)


Path_ = tuple[str | int, ...]
Reads = dict[str, set[tuple[str, str | None]]]


def _dotted(path: Path_) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _walk(value: Any, cls: type, path: Path_) -> Iterator[tuple[Path_, type, str]]:
    """Yield (key path, dataclass, field) for every key of ``value`` read into dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    for key, item in value.items():
        where = (*path, key)
        assert key in hints, f"{_dotted(where)}: no field {key!r} in {cls.__name__}, so nothing reads it"
        yield where, cls, key
        if item is None or f"{cls.__name__}.{key}" in FREE_FORM:
            continue
        for hint in _options(hints[key]):
            origin, args = typing.get_origin(hint), typing.get_args(hint)
            if dataclasses.is_dataclass(hint) and isinstance(item, dict):
                yield from _walk(item, hint, where)
            elif origin in (list, tuple) and args and dataclasses.is_dataclass(args[0]):
                for i, member in enumerate(item):
                    yield from _walk(member, args[0], (*where, i))
            elif origin is dict and args and dataclasses.is_dataclass(args[1]):
                for name, member in item.items():
                    yield from _walk(member, args[1], (*where, name))
            elif origin is dict or hint is Any or isinstance(item, dict):
                pytest.fail(f"{_dotted(where)}: {cls.__name__}.{key} is a free-form mapping; "
                            "name its consumer in FREE_FORM")


def _leaves(name: str) -> list[tuple[Path_, type, str]]:
    data = load_yaml(CONFIG_DIR / name)
    schema = SCHEMAS[name]
    if "" in schema:
        return list(_walk(data, _resolve(schema[""]), ()))
    unknown = sorted(set(data) - set(schema))
    assert not unknown, f"configs/{name}: top-level {unknown} not in SCHEMAS: which code reads them?"
    return [leaf for key in data for leaf in _walk(data[key], _resolve(schema[key]), (key,))]


def _dataclasses_of(cls: type, seen: set[type] | None = None) -> set[type]:
    """``cls`` and every dataclass its fields hold (directly, optionally, in lists or as mapping values)."""
    seen = set() if seen is None else seen
    if cls in seen:
        return seen
    seen.add(cls)
    for hint in typing.get_type_hints(cls).values():
        for option in _options(hint):
            for inner in (option, *typing.get_args(option)):
                if dataclasses.is_dataclass(inner):
                    _dataclasses_of(inner, seen)
    return seen


# ---- where project code reads attributes ------------------------------------------------------------------


@functools.cache
def _attribute_reads() -> Reads:
    """Attribute name -> {(module, enclosing class)} for every ``x.name`` load in project code."""
    reads: Reads = {}
    for package in CODE:
        for file in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(file.relative_to(ROOT).with_suffix("").parts)
            _collect(ast.parse(file.read_text(encoding="utf-8")), module, None, reads)
    return reads


def _collect(node: ast.AST, module: str, owner: str | None, reads: Reads) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef):
            _collect(child, module, child.name, reads)
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and child.name in VALIDATION_ONLY:
            continue
        else:
            if isinstance(child, ast.Attribute) and isinstance(child.ctx, ast.Load):
                reads.setdefault(child.attr, set()).add((module, owner))
            _collect(child, module, owner, reads)


def _unread_fields(cls: type) -> list[str]:
    own = (cls.__module__, cls.__name__)
    kept = {name.split(".")[1] for name in FOR_PEOPLE if name.split(".")[0] == cls.__name__}
    readers = _attribute_reads()
    fields = [f.name for f in dataclasses.fields(cls) if f.name not in kept]
    return [name for name in fields if not readers.get(name, set()) - {own}]


# ---- tests ------------------------------------------------------------------------------------------------


def test_every_config_file_has_a_loader_and_is_read_by_code():
    files = {path.name for path in CONFIG_DIR.iterdir() if path.is_file()}
    assert files == set(LOADERS) | JSON_FILES, "a config file nothing loads: add it to LOADERS, or delete it"
    assert set(SCHEMAS) == set(LOADERS)
    users = [p for pkg in (*CODE, "tests") for p in (ROOT / pkg).rglob("*.py") if p != Path(__file__)]
    text = "\n".join(p.read_text(encoding="utf-8") for p in [*users, ROOT / "params.yaml", ROOT / "dvc.yaml"])
    for name in files:  # tests count: smoke.yaml is the tests' training profile
        assert name in text, f"configs/{name}: named by no code, no stage and no test"


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_every_key_lands_on_a_field_that_code_reads(name):
    if name in PENDING:
        pytest.skip(PENDING[name])
    LOADERS[name](CONFIG_DIR / name)  # the file as it is loads
    leaves = _leaves(name)
    assert leaves, f"configs/{name}: no keys found"
    classes = {cls for _, cls, _ in leaves}
    for cls in set().union(*(_dataclasses_of(c) for c in classes)):
        unread = _unread_fields(cls)
        assert not unread, f"{cls.__module__}.{cls.__name__}: {unread} (configs/{name}) read by no code"


def _mapping_paths(value: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Key paths of every mapping in ``value`` that is not a free-form one (those take any key)."""
    if isinstance(value, dict):
        yield path
        for key, item in value.items():
            yield from _mapping_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _mapping_paths(item, (*path, i))


def _free_form_paths(name: str) -> set[Path_]:
    return {where for where, cls, key in _leaves(name) if f"{cls.__name__}.{key}" in FREE_FORM}


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_an_extra_key_anywhere_is_an_error(name, tmp_path):
    if name in PENDING:
        pytest.skip(PENDING[name])
    data = load_yaml(CONFIG_DIR / name)
    free = _free_form_paths(name)
    checked = 0
    for path in _mapping_paths(data):
        if any(path[:n] in free for n in range(1, len(path) + 1)):
            continue  # a free-form mapping (and what it holds) is its consumer's to check
        copy = yaml.safe_load(yaml.safe_dump(data))
        node = copy
        for key in path:
            node = node[key]
        node["unused_key"] = 1
        target = tmp_path / name
        target.write_text(yaml.safe_dump(copy), encoding="utf-8")
        with pytest.raises(ConfigError):
            LOADERS[name](target)
        checked += 1
    assert checked


def test_the_consumption_check_can_fail():
    @dataclasses.dataclass(frozen=True)
    class Unread:
        a_field_no_code_reads_xyz: float

    assert _unread_fields(Unread) == ["a_field_no_code_reads_xyz"]
    with pytest.raises(AssertionError, match="tissue.colour: no field"):
        list(_walk({"mpp": 8.0, "colour": "red"}, _resolve(SCHEMAS["slides.yaml"]["tissue"]), ("tissue",)))


def test_the_empty_style_bank_holds_exactly_the_bank_format():
    from stylegan_aug.bank import BANK_FORMAT, load_bank

    empty = CONFIG_DIR / "style_bank_empty.json"  # keys: the ones write_bank writes and load_bank reads
    assert json.loads(empty.read_text()) == {"format": BANK_FORMAT, "generators": [], "weights": None}
    assert load_bank(empty) is None

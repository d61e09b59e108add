from __future__ import annotations

import pickle
from dataclasses import dataclass, field

import pytest

from hookseg.config import from_mapping, load_yaml
from hookseg.errors import AnnotationError, ConfigError, HooksegError, ManifestError, SlideError
from hookseg.io import atomic_path, write_json


@dataclass(frozen=True)
class Inner:
    size: int
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outer:
    lr: float
    inner: Inner
    mode: str = "dynamic"
    weights: list[float] = field(default_factory=list)
    optional: Inner | None = None  # like a stage's `tissue:` section


def test_from_mapping_builds_nested_dataclasses():
    cfg = from_mapping(Outer, {"lr": 1, "inner": {"size": 3, "names": ["a", "b"]}, "weights": [1, 2.5]},
                       source="x.yaml")
    assert cfg == Outer(lr=1.0, inner=Inner(3, ("a", "b")), weights=[1.0, 2.5])


@pytest.mark.parametrize(
    ("mapping", "pattern"),
    [
        ({"inner": {"size": 3}}, r"x\.yaml:lr: required key is missing"),
        ({"lr": "high", "inner": {"size": 3}}, r"x\.yaml:lr: expected float\. Received: 'high'"),
        ({"lr": 1, "inner": {"size": 2.5}}, r"x\.yaml:inner\.size: expected int\. Received: 2\.5"),
        ({"lr": 1, "inner": {"size": 1}, "extra": 1}, r"unknown key\(s\) \['extra'\]"),
        ({"lr": 1, "inner": {"size": True}}, r"inner\.size"),
        ({"lr": 1, "inner": {"size": 1}, "optional": {"names": []}}, r"x\.yaml:optional\.size: required key"),
    ],
)
def test_from_mapping_errors_name_file_key_and_value(mapping, pattern):
    with pytest.raises(ConfigError, match=pattern):
        from_mapping(Outer, mapping, source="x.yaml")


def test_load_yaml_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_yaml(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: line \d+ invalid YAML"):
        load_yaml(bad)
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_yaml(bad)


@pytest.mark.parametrize("cls", [HooksegError, SlideError, AnnotationError, ConfigError, ManifestError])
def test_errors_pickle_with_path(cls):
    err = cls("f.x: bad field", path="f.x")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert (str(back), back.path) == ("f.x: bad field", "f.x")


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        msg = "interrupted"
        raise RuntimeError(msg)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
    write_json(target, {"a": 1})
    assert target.read_text().strip() == '{\n  "a": 1\n}'


def test_atomic_outputs_get_normal_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        write_json(tmp_path / "x.json", {})
    finally:
        os.umask(mask)
    assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o644

"""ClassMap: the repo's classes.yaml, clubbing, label matching, and YAML validation errors."""

from __future__ import annotations

import pickle

import pytest
import yaml

from hookseg.annotations import ClassMap
from hookseg.annotations.classes import DEFAULT_CLASSES_PATH
from hookseg.errors import AnnotationError, ConfigError


@pytest.fixture(scope="module")
def class_map() -> ClassMap:
    return ClassMap.default()


def test_paper_classes(class_map):
    assert class_map.names == ("background", "tumour", "other")
    assert class_map.num_classes == 3
    assert class_map.ignore_id == 255
    assert class_map.name_of(1) == "tumour"
    assert class_map.name_of(255) == "ignore"
    assert len(set(class_map.colors)) == 3
    assert class_map.color_of(2) == class_map.colors[2]
    with pytest.raises(KeyError, match="class_id=7"):
        class_map.name_of(7)
    assert pickle.loads(pickle.dumps(class_map)) == class_map


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("stroma", "background"),
        ("Fat", "background"),
        ("glass", "background"),
        ("normal", "background"),
        ("tumor", "tumour"),
        ("Invasive tumour", "tumour"),
        ("DCIS", "other"),
        ("acini", "other"),
        ("Blood vessel", "other"),
        ("blood-vessel", "other"),
        ("BLOOD_VESSEL", "other"),
        ("out of focus", "other"),
        ("pen", "other"),
        ("dust", "other"),
        ("artefact", "other"),
        ("roi", "ignore"),
        ("Outside ROI", "ignore"),
        ("exclude", "ignore"),
        ("undetermined", "ignore"),
        ("other", "other"),
        ("Tumour", "tumour"),
    ],
)
def test_clubbing(class_map, label, expected):
    assert class_map.club_name(label) == expected
    assert class_map.club(label) == class_map.id_of(expected)


def test_every_bcss_group_clubs(class_map, sample_bcss_codes):
    import csv

    with sample_bcss_codes.open() as handle:
        groups = [row["group"] for row in csv.DictReader(handle)]
    assert len(groups) == 23
    clubbed = {g: class_map.club_name(g, source=sample_bcss_codes) for g in groups}
    assert clubbed["mostly_tumor"] == "tumour"
    assert clubbed["mostly_stroma"] == "background"
    assert clubbed["mostly_lymphocytic_infiltrate"] == "other"
    assert clubbed["roi"] == clubbed["exclude"] == clubbed["undetermined"] == "ignore"
    assert set(clubbed.values()) == {"background", "tumour", "other", "ignore"}


def test_unknown_label_error_names_label_file_and_map(class_map):
    with pytest.raises(AnnotationError) as err:
        class_map.club("mystery tissue", source="/data/slide7.geojson")
    message = str(err.value)
    assert "'mystery tissue'" in message
    assert "/data/slide7.geojson" in message
    assert str(DEFAULT_CLASSES_PATH) in message


def _write_variant(tmp_path, edit):
    data = yaml.safe_load(DEFAULT_CLASSES_PATH.read_text())
    edit(data)
    path = tmp_path / "classes.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("edit", "key", "fragment"),
    [
        (lambda d: d["classes"][1].update(id=0), "classes", "unique ids"),
        (lambda d: d["classes"][2].update(id=5), "classes", "ids 0..2"),
        (lambda d: d["ignore"].update(id=1), "classes", "below the ignore id"),
        (lambda d: d["clubbing"].update(fold="bad_regions"), "clubbing.fold", "a class name or 'ignore'"),
        (lambda d: d["classes"][0].update(color=[1, 2]), "classes[0].color", "[r, g, b]"),
        (lambda d: d["classes"][0].update(id="zero"), "classes[0].id", "expected int"),
        (lambda d: d.pop("ignore"), "ignore", "required key is missing"),
        (lambda d: d["clubbing"].update({"Fold": "tumour"}), "clubbing.Fold", "one target per label"),
    ],
)
def test_yaml_validation(tmp_path, edit, key, fragment):
    path = _write_variant(tmp_path, edit)
    with pytest.raises(ConfigError) as err:
        ClassMap.from_yaml(path)
    message = str(err.value)
    assert f"{path}:{key}" in message
    assert fragment in message


def test_explicit_path(tmp_path):
    path = _write_variant(tmp_path, lambda d: d["clubbing"].update(gland="other"))
    assert ClassMap.default(path).club("Gland") == 2
    assert ClassMap.from_yaml(path).path == str(path)

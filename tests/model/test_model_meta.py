"""``hookseg.json`` inside a .keras file: fields of view and the class map, read without Keras."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from hookseg.annotations import ClassMap
from hookseg.errors import ConfigError
from hookseg.model_meta import META_MEMBER, FieldOfView, ModelMeta, read_meta
from hookseg.train.config import load_stage_config

FOUR = Path(__file__).resolve().parents[1] / "train" / "classes_4.yaml"
FOV = {"size": 64, "mpp": 2.0, "context_size": 64, "context_mpp": 4.0}


def archive(path: Path, meta: dict) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(META_MEMBER, json.dumps(meta))
    return path


def test_class_map_round_trips_through_the_model_file(tmp_path):
    meta = ModelMeta(FieldOfView(**FOV), ClassMap.from_yaml(FOUR), "base")
    path = archive(tmp_path / "m.keras", json.loads(meta.to_json()))
    back = read_meta(path)
    assert back.fov == meta.fov
    assert back.stage == "base"
    assert back.class_names == ("background", "tumour", "dcis", "other")
    assert back.class_map.to_dict() == meta.class_map.to_dict()
    assert back.class_map.club("glass") == 0


def test_old_model_files_fall_back_to_the_default_map_only_when_names_match(tmp_path):
    old = archive(tmp_path / "old.keras", {"fov": FOV, "class_names": ["background", "tumour", "other"]})
    assert read_meta(old).class_map.names == ClassMap.default().names
    other = archive(tmp_path / "other.keras", {"fov": FOV, "class_names": ["background", "tumour"]})
    with pytest.raises(ConfigError, match=r"other\.keras:hookseg\.json:class_map: expected a saved class"):
        read_meta(other)


def test_geometry_is_derived_from_the_field_of_view():
    config = load_stage_config(Path(__file__).resolve().parents[2] / "configs" / "smoke.yaml", "master")
    kwargs = config.model_kwargs(num_classes=4)
    assert (kwargs["input_size"], kwargs["context_ratio"], kwargs["num_classes"]) == (64, 2, 4)


@pytest.mark.parametrize("key", ["input_size", "context_ratio", "num_classes"])
def test_restated_geometry_is_a_config_error(tmp_path, key):
    path = tmp_path / "c.yaml"
    path.write_text(f"master:\n  model: {{arch: munet, kwargs: {{{key}: 2}}}}\n  fov: {json.dumps(FOV)}\n")
    with pytest.raises(ConfigError, match=rf"c\.yaml:master\.model\.kwargs\.{key}: expected no value"):
        load_stage_config(path, "master")


def test_the_tissue_mask_a_model_trained_with_travels_in_its_file(tmp_path):
    from hookseg.slides import TissueParams

    pale = {**TissueParams.load().as_dict(), "max_threshold": 0.03, "min_saturation": 0.02}
    meta = ModelMeta(FieldOfView(**FOV), ClassMap.default(), "p1", pale)
    back = read_meta(archive(tmp_path / "m.keras", json.loads(meta.to_json())))
    assert TissueParams.of_model(back.tissue, source="m") == TissueParams(**pale) != TissueParams.load()
    # a model saved before models recorded their mask predicts with configs/slides.yaml's
    names = ["background", "tumour", "other"]
    old = read_meta(archive(tmp_path / "old.keras", {"fov": FOV, "class_names": names}))
    assert old.tissue is None and TissueParams.of_model(old.tissue, source="old") == TissueParams.load()
    with pytest.raises(ConfigError, match=r"m:tissue.min_saturation: required key is missing"):
        TissueParams.of_model({"mpp": 8.0}, source="m")

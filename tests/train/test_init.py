"""``--init``: a model of the stage's architecture is continued whole, one of another is a warm start."""

from __future__ import annotations

from pathlib import Path

from hookseg.annotations import ClassMap
from hookseg.train.config import load_stage_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_init_of_the_same_architecture_continues_and_of_another_warm_starts(tmp_path) -> None:
    from hookseg.model_io import ModelMeta, save_model
    from hookseg.train.logits import logits_view
    from hookseg.train.loop import build_model

    base_config = load_stage_config(CONFIGS / "smoke.yaml", "base")
    master_config = load_stage_config(CONFIGS / "smoke.yaml", "master")
    class_map = ClassMap.default()
    base, info = build_model(base_config, None, class_map)
    assert info == {"init": "random"}
    path = save_model(base, tmp_path / "base.keras", ModelMeta(base_config.fov, class_map, "base"))
    again, info = build_model(base_config, path, class_map)
    assert info == {"init": "continue"} and again.name == "unet"
    assert logits_view(again) is not None  # a loaded model still yields its logits
    master, info = build_model(master_config, path, class_map)
    assert master.name == "munet" and info["init"] == "warm_start"
    assert info["warm_start_params"] == base.get_layer("target_encoder").count_params()

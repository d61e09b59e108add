"""Stage options that need no training: per-stage seeds, config validation, pixel-share class weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hookseg.annotations import ClassMap
from hookseg.errors import ConfigError
from hookseg.train.config import load_stage_config, stage_seed
from hookseg.train.loop import stage_class_weights

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_stage_seed_is_stable_distinct_per_stage_and_keeps_integers() -> None:
    seeds = {name: stage_seed("stage", name) for name in ("base", "p1", "p2", "p3", "p4", "p5")}
    assert len(set(seeds.values())) == len(seeds)
    assert all(0 <= s < 2**31 for s in seeds.values())
    assert stage_seed(7, "p1") == 7
    with pytest.raises(ConfigError, match=r"train.seed.*'lucky'"):
        stage_seed("lucky", "p1")


def test_stage_seed_does_not_depend_on_python_hash_salt() -> None:
    import subprocess
    import sys

    code = "from hookseg.train.config import stage_seed; print(stage_seed('stage', 'p3'))"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": str(salt), "PATH": ""}).stdout for salt in (1, 2)}
    assert runs == {f"{stage_seed('stage', 'p3')}\n"}


def test_new_train_keys_default_to_the_papers_behaviour_and_are_validated(tmp_path) -> None:
    # smoke.yaml sets none of the new keys: the defaults are the paper's cyclic LR and seed 0 ...
    master = load_stage_config(CONFIGS / "smoke.yaml", "master").train
    assert (master.schedule, master.seed, master.class_weights) == ("cyclic", 0, "dynamic")
    # ... and the demo profile opts in (issue 14's measured lineage).
    demo = load_stage_config(CONFIGS / "demo.yaml", "master").train
    assert (demo.schedule, demo.seed, demo.warmup_steps) == ("warmup_cosine", "stage", 5)
    bad = tmp_path / "bad.yaml"
    text = (CONFIGS / "demo.yaml").read_text()
    bad.write_text(text.replace("schedule: warmup_cosine", "schedule: cosine"))
    with pytest.raises(ConfigError, match=r"bad.yaml:master.train.schedule: expected one of"):
        load_stage_config(bad, "master")


class _Batches:
    """Stands in for a PatchDataset: fixed label batches, tumour-heavy like the 2:1:1 sampler's."""

    def __init__(self, batches: list[np.ndarray]) -> None:
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int):
        return {}, {"final": self.batches[i]}


def test_pixel_weights_come_from_the_sampled_batches_and_default_is_untouched() -> None:
    config = load_stage_config(CONFIGS / "demo.yaml", "master")
    labels = np.full((2, 10, 10), 1, np.int32)  # tumour
    labels[:, :3] = 0  # normal: 60 of 200
    labels[:, 3, :5] = 2  # other: 10
    labels[:, 9] = 255  # ignored row: 20
    dataset = _Batches([labels, labels, np.full((2, 10, 10), 0, np.int32)])
    class_map = ClassMap.default()
    unchanged, info = stage_class_weights(config, dataset, class_map)
    assert unchanged == "dynamic" and info == {}
    pixel = config.with_train(class_weights="pixel", pixel_weight_batches=2, pixel_weight_power=1.0)
    weights, info = stage_class_weights(pixel, dataset, class_map)
    counts = np.array([120.0, 220.0, 20.0])  # the first two batches only, ignore excluded
    np.testing.assert_allclose(np.array(weights) * counts, np.full(3, weights[0] * counts[0]))
    assert info[f"pixel_share_{class_map.names[2]}"] == pytest.approx(20 / 360)


def test_cli_seed_and_class_weight_options_parse_or_fail_in_one_line() -> None:
    from hookseg.cli.train import _floats, _seed_arg

    assert _seed_arg(" 12 ") == 12 and _seed_arg("stage") == "stage"
    with pytest.raises(ConfigError, match=r"^--seed: expected an integer or 'stage'. Received: 'p1'$"):
        _seed_arg("p1")
    assert _floats("1,2,1", "--class-weights") == [1.0, 2.0, 1.0]
    with pytest.raises(ConfigError, match=r"^--class-weights: expected .*'pixle'"):
        _floats("pixle", "--class-weights")


def test_cli_soft_augment_parses_same_none_and_colour_presets_or_fails_in_one_line() -> None:
    from hookseg.cli.train import _soft_augment

    assert _soft_augment("same") is None and _soft_augment("none") == []
    assert _soft_augment("heavy_color,color_noise") == ["heavy_color", "color_noise"]
    with pytest.raises(ConfigError, match=r"^--soft-augment: expected colour-only .*\['xy_jitter'\]$"):
        _soft_augment("heavy_color,xy_jitter")
    with pytest.raises(ConfigError, match=r"heavy_colour"):
        _soft_augment("heavy_colour")

"""configs/augment.yaml: loads, covers Table 8, and bad configs fail at load naming file:key."""

from __future__ import annotations

import pytest

from hookseg.augment import build_pipeline, load_config, parse_config
from hookseg.augment.registry import STAGES, TRANSFORMS
from hookseg.errors import ConfigError

TABLE8_PRESETS = {"basic", "color_noise", "heavy_color", "targeted_hsv", "gan", "xy_jitter"}
PAPER_FAMILIES = {  # paper 003 "Transformation and Other Augmentations" + paper 000 multi-lens
    "gaussian_blur",
    "glass_blur",
    "motion_blur",
    "gaussian_noise",
    "fancy_pca",
    "emboss",
    "elastic",
    "grid",
    "optical",
    "clahe",
    "gamma",
    "brightness_contrast",
    "shear",
    "shift",
    "multi_lens",
    "hed_jitter",
}


def test_default_config_has_table8_presets_and_phases():
    config = load_config()
    assert set(config.presets) >= TABLE8_PRESETS
    assert config.phases["p5"] == ("gan", "xy_jitter", "basic", "noise")
    used = {
        s.name
        for specs in config.presets.values()
        for spec in specs
        for s in getattr(spec, "members", (spec,))
    }
    assert PAPER_FAMILIES <= used <= set(TRANSFORMS)
    for phase, presets in config.phases.items():
        pipeline = build_pipeline(presets, config)
        assert pipeline.affine, phase  # every phase includes `basic`


def test_stage_order_ignores_list_order():
    config = load_config()
    a = build_pipeline(["targeted_hsv", "basic", "heavy_color"], config)
    b = build_pipeline(["heavy_color", "basic", "targeted_hsv"], config)
    assert a.names == b.names
    assert [t.__class__.__name__ for t in a.shared.transforms][0] == "TargetedHSV"
    assert STAGES.index("stain") < STAGES.index("color")


def test_a_preset_listed_twice_is_built_once():
    config = load_config()
    once = build_pipeline(["color_noise"], config)
    twice = build_pipeline(["color_noise", "noise", "color_noise"], config)
    assert once.names == twice.names


def _config(items, **extra):
    return {"presets": {"p": items}, **extra}


@pytest.mark.parametrize(
    ("data", "key", "text"),
    [
        (_config([{"name": "blurr", "p": 0.5}]), "presets.p[0].name", "Expected one of"),
        (_config([{"name": "rotate", "p": 1.5}]), "presets.p[0].p", "Received: p=1.5"),
        (_config([{"name": "rotate"}]), "presets.p[0].p", "missing"),
        (_config([{"name": "gaussian_noise", "p": 0.5, "var_limit": [10, 50]}]), "presets.p[0]", "var_limit"),
        (_config([{"name": "rotate", "p": 0.5, "limit": [30, 10]}]), "presets.p[0]", "limit"),
        (_config([{"preset": "p"}]), "presets.p", "cycle"),
        (_config([{"preset": "nope"}]), "presets.p", "unknown preset"),
        (_config([{"one_of": [{"name": "rotate", "p": 1}], "p": 0.5}]), "presets.p[0].one_of", "stages"),
        (_config([], phases={"p1": ["basic"]}), "phases.p1", "preset names"),
        (_config([], colour=1), "colour", "unknown key"),
        (_config([], border={"image": "wrap"}), "border.image", "reflect_101"),
    ],
)
def test_bad_configs_name_file_and_key(data, key, text):
    with pytest.raises(ConfigError, match=text) as info:
        parse_config(data, source="augment.yaml")
    message = str(info.value)
    assert message.startswith(f"augment.yaml:{key}:"), message
    assert "\n" not in message


def test_unknown_preset_or_phase_lists_the_valid_ones():
    config = load_config()
    with pytest.raises(ConfigError, match="Expected one of"):
        config.preset("colour_noise")
    with pytest.raises(ConfigError, match="p5"):
        config.phase("p6")


def test_load_config_reads_a_file(tmp_path):
    path = tmp_path / "aug.yaml"
    path.write_text(
        "presets:\n  only:\n    - {name: hflip, p: 1.0}\nphases:\n  a: [only]\n", encoding="utf-8"
    )
    config = load_config(path)
    assert config.phase("a") == ("only",) and config.source == str(path)
    path.write_text("presets: [1, 2]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{path}:presets"):
        load_config(path)

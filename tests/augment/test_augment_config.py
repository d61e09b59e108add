"""configs/augment.yaml: loads, covers Table 8, and bad configs fail at load naming file:key."""

from __future__ import annotations

import pytest

from hookseg.augment import PairedGeometry, build_pipeline, load_config, parse_config
from hookseg.augment.registry import STAGES, TRANSFORMS
from hookseg.config import CONFIG_DIR, load_yaml
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


def _params_augment() -> dict[str, list[str]]:
    """The phase schedule's preset lists: params.yaml is their one home (train_base + phases)."""
    params = load_yaml(CONFIG_DIR.parent / "params.yaml")
    lists = {"base": params["train_base"]["augment"]}
    lists.update({name: phase["augment"] for name, phase in params["phases"].items()})
    return {name: [p for p in text.split(",") if p] for name, text in lists.items()}


def test_default_config_has_table8_presets():
    config = load_config()
    assert set(config.presets) >= TABLE8_PRESETS
    used = {
        s.name
        for specs in config.presets.values()
        for spec in specs
        for s in getattr(spec, "members", (spec,))
    }
    assert PAPER_FAMILIES <= used <= set(TRANSFORMS)


def test_every_phase_in_params_names_known_presets():
    config = load_config()
    for phase, presets in _params_augment().items():
        assert set(presets) <= set(config.presets), phase
        pipeline = build_pipeline(presets, config)
        assert isinstance(pipeline.geometry, PairedGeometry), phase  # every phase includes `basic`


def test_stage_order_ignores_list_order():
    config = load_config()
    a = build_pipeline(["targeted_hsv", "basic", "heavy_color"], config)
    b = build_pipeline(["heavy_color", "basic", "targeted_hsv"], config)
    assert a.names == b.names
    geometry, shared = a.compose.transforms  # one Compose: the paired warp, then the shared colour draw
    assert isinstance(geometry, PairedGeometry)
    assert [t.__class__.__name__ for t in shared.transforms][0] == "TargetedHSV"
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
        (_config([{"name": "blurr", "p": 0.5}]), "presets.p[0].name", "one of .*Received: 'blurr'"),
        (_config([{"name": "rotate", "p": 1.5}]), "presets.p[0].p", "probability.*Received: 1.5"),
        (_config([{"name": "rotate", "p": "often"}]), "presets.p[0].p", "expected float"),
        (_config([{"name": "rotate"}]), "presets.p[0].p", "missing"),
        (_config([{"name": "rotate", "p": 0.5, "limit": 30}]), "presets.p[0]", "limit"),
        (_config([{"name": "hflip", "p": 0.5, "angle": 3}]), "presets.p[0]", "angle"),
        (_config([{"name": "gaussian_noise", "p": 0.5, "var_limit": [10, 50]}]), "presets.p[0]", "var_limit"),
        (_config([{"name": "rotate", "p": 0.5, "limit": [30, 10]}]), "presets.p[0]", "limit"),
        (_config([{"preset": "p"}]), "presets.p", "cycle"),
        (_config([{"preset": "nope"}]), "presets.p", "known preset.*Received: 'nope'"),
        (_config([{"preset": "p", "p": 1}]), "presets.p[0]", "unknown key"),
        (_config([{"one_of": [{"name": "rotate", "p": 1}], "p": 0.5}]), "presets.p[0].one_of", "stages"),
        (_config([{"one_of": [], "p": 0.5}]), "presets.p[0].one_of", "non-empty"),
        (_config(["hflip"]), "presets.p[0]", "expected a mapping"),
        (_config([], border={"image": "wrap"}), "border.image", "reflect_101"),
        (_config([], border={"image_value": [255, 255]}), "border.image_value", "3 items"),
        (_config([], border={"image_value": [255, 255, 300]}), "border.image_value", "0, 255"),
        (_config([], ignore_index=-1), "ignore_index", "0, 255"),
    ],
)
def test_bad_configs_name_file_and_key(data, key, text):
    with pytest.raises(ConfigError, match=text) as info:
        parse_config(data, source="augment.yaml")
    message = str(info.value)
    assert message.startswith(f"augment.yaml:{key}:"), message
    assert "\n" not in message


@pytest.mark.parametrize("key", ["phases", "colour"])
def test_unknown_top_level_keys_name_the_file(key):
    """The phase schedule lives in params.yaml only: a `phases:` section here is an error, not ignored."""
    with pytest.raises(ConfigError, match=rf"unknown key\(s\) \['{key}'\]") as info:
        parse_config(_config([], **{key: {"p1": ["basic"]}}), source="augment.yaml")
    assert str(info.value).startswith("augment.yaml:")


def test_unknown_preset_lists_the_valid_ones():
    config = load_config()
    with pytest.raises(ConfigError, match="one of .*'color_noise'.*Received: 'colour_noise'"):
        config.preset("colour_noise")


def test_load_config_reads_a_file(tmp_path):
    path = tmp_path / "aug.yaml"
    path.write_text("presets:\n  only:\n    - {name: hflip, p: 1.0}\n", encoding="utf-8")
    config = load_config(path)
    assert [s.name for s in config.preset("only")] == ["hflip"] and config.source == str(path)
    path.write_text("presets: [1, 2]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{path}:presets"):
        load_config(path)

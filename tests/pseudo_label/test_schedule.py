"""The phase schedule: every phase of params.yaml parses, with all its keys; bad entries name file:key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from hookseg.cli import main as hookseg_main
from hookseg.errors import ConfigError
from pseudo_label.schedule import get_phase, load_schedule, schedule_from_mapping

REPO = Path(__file__).resolve().parents[2]
PARAMS = REPO / "params.yaml"
RAW = yaml.safe_load(PARAMS.read_text())


@pytest.mark.parametrize("name", list(RAW["phases"]))
def test_every_phase_of_the_real_params_parses_with_all_its_keys(name):
    phase = get_phase(PARAMS, name)
    assert phase.name == name
    assert {k: getattr(phase, k) for k in RAW["phases"][name]} == {
        k: float(v) if k in ("threshold", "lr0") else v for k, v in RAW["phases"][name].items()
    }


def test_the_real_schedule_lists_base_then_the_phases_and_ships_a_phase():
    schedule = load_schedule(PARAMS)
    assert schedule.models == ["base", *RAW["phases"]]
    assert schedule.final in RAW["phases"]


def _params(**phase_p2) -> dict:
    params = copy.deepcopy(RAW)
    params["phases"]["p2"].update(phase_p2)
    return params


@pytest.mark.parametrize(("change", "key"), [
    ({"prev": "p3"}, "phases.p2.prev"),
    ({"init": "p9"}, "phases.p2.init"),
    ({"threshold": 1.5}, "phases.p2.threshold"),
    ({"epochs": 0}, "phases.p2.epochs"),
    ({"lr0": 0}, "phases.p2.lr0"),
    ({"class_weights": "1,x,1"}, "phases.p2.class_weights"),
    ({"style_bank": "stylegan"}, "phases.p2.style_bank"),
    ({"stylebank": "stylegan/bank.json"}, "phases.p2"),
    ({"target_precision": 1.5}, "phases.p2.target_precision"),
    ({"target_precision": 0}, "phases.p2.target_precision"),
    ({"target_precision": "high"}, "phases.p2.target_precision"),
    ({"border_um": -1}, "phases.p2.border_um"),
    ({"tta": 3}, "phases.p2.tta"),
    ({"soft_share": 1.0}, "phases.p2.soft_share"),
    ({"soft_share": -0.1}, "phases.p2.soft_share"),
    ({"hard_labels": "both"}, "phases.p2.hard_labels"),
    ({"soft_augment": ""}, "phases.p2.soft_augment"),
    ({"soft_augment": "heavy_color, color_noise"}, "phases.p2.soft_augment"),
])
def test_a_bad_phase_entry_names_file_and_key(change, key):
    with pytest.raises(ConfigError, match=rf"^params\.yaml:{key}: "):
        schedule_from_mapping(_params(**change), "params.yaml")


@pytest.mark.parametrize("key", ["style_bank", "target_precision", "border_um", "tta", "soft_share",
                                 "hard_labels", "soft_augment"])
def test_a_missing_key_is_an_error_because_dvc_yaml_interpolates_every_key(key):
    params = copy.deepcopy(RAW)
    del params["phases"]["p3"][key]
    with pytest.raises(ConfigError, match=rf"^params\.yaml:phases\.p3\.{key}: required key is missing"):
        schedule_from_mapping(params, "params.yaml")


def test_the_label_switches_parse_on_and_off():
    on = schedule_from_mapping(_params(target_precision=0.95, border_um=8, tta=4), "p.yaml").phase("p2", "")
    assert (on.target_precision, on.border_um, on.tta) == (0.95, 8.0, 4)
    off = schedule_from_mapping(_params(target_precision=None, border_um=0, tta=0), "p.yaml").phase("p2", "")
    assert (off.target_precision, off.border_um, off.tta) == (None, 0.0, 0)


def test_cli_options_come_from_the_phase_and_flags_override_them(tmp_path):
    import argparse

    from pseudo_label.cli import _options

    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(_params(target_precision=0.95, border_um=8, tta=2)))
    args = argparse.Namespace(threshold=None, params=str(params), phase="p2", target_precision=None,
                              border_um=None, tta=None)
    options = _options(args)
    assert (options.threshold, options.target_precision, options.border_um, options.tta) == (
        RAW["phases"]["p2"]["threshold"], 0.95, 8.0, 2)
    options = _options(argparse.Namespace(**{**vars(args), "border_um": 0.0, "tta": 4}))
    assert (options.target_precision, options.border_um, options.tta) == (0.95, 0.0, 4)
    bad = argparse.Namespace(**{**vars(args), "target_precision": 1.2})
    expected = r"^--target-precision: expected a precision in \(0, 1\]\. Received: 1\.2$"
    with pytest.raises(ConfigError, match=expected):
        _options(bad)


def test_final_must_be_a_phase():
    params = copy.deepcopy(RAW)
    params["final"] = "p9"
    with pytest.raises(ConfigError, match=r"^params\.yaml:final: expected the phase .* Received: 'p9'"):
        schedule_from_mapping(params, "params.yaml")
    del params["final"]
    with pytest.raises(ConfigError, match=r"^params\.yaml:final: "):
        schedule_from_mapping(params, "params.yaml")


def test_a_new_phase_p6_parses_without_touching_code():
    params = copy.deepcopy(RAW)
    params["phases"]["p6"] = {**params["phases"]["p5"], "prev": "p5", "init": "p5", "threshold": 0.4}
    params["final"] = "p6"
    schedule = schedule_from_mapping(params, "params.yaml")
    assert schedule.models[-1] == schedule.final == "p6"


def test_cli_reads_every_phase_from_params_and_stops_at_the_missing_model(capsys, tmp_path):
    """Past argument and params validation for each phase: the first error is about the model, not params."""
    for name in RAW["phases"]:
        code = hookseg_main(["pseudo-label", "--params", str(PARAMS), "--phase", name, "--workers", "0",
                             "--model", str(tmp_path / "missing.keras"), "--manifest", "m.csv",
                             "--out", str(tmp_path / "out")])
        err = capsys.readouterr().err
        assert code == 1  # data error: the model
        assert err.startswith(f"hookseg pseudo-label: error: {tmp_path / 'missing.keras'}: model not found; ")
        assert err.count("\n") == 1


def test_cli_names_params_file_and_key_for_an_unknown_phase(capsys, tmp_path):
    code = hookseg_main(["pseudo-label", "--params", str(PARAMS), "--phase", "p9", "--workers", "0",
                         "--model", str(tmp_path / "m.keras"), "--manifest", "m.csv", "--out", str(tmp_path)])
    assert code == 2
    assert f"error: {PARAMS}:phases: no phase 'p9'" in capsys.readouterr().err

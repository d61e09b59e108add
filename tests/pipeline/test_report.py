"""``hookseg report --params``: the models come from params.yaml's schedule: base, then every phase."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from hookseg.cli import main as hookseg_main

REPO = Path(__file__).resolve().parents[2]


def _write_eval(evals: Path, name: str, iou: float) -> None:
    cohort = {"mean_iou": iou, "tumour": {"iou": iou}, "stroma": {"iou": iou / 2}, "accuracy": 0.9}
    (evals / name).mkdir(parents=True)
    (evals / name / "metrics.json").write_text(json.dumps({"test": cohort, "new_domain": cohort}))


def _report(tmp_path: Path, *models: str) -> int:
    return hookseg_main(["report", *models, "--evals", str(tmp_path / "eval"), "--no-mlflow",
                         "--out", str(tmp_path / "p.json"), "--table", str(tmp_path / "p.md")])


def test_a_phase_added_to_params_is_reported_without_naming_it(tmp_path, capsys):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["phases"]["p6"] = {**params["phases"]["p5"], "prev": "p5", "init": "p5", "threshold": 0.4}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    names = ["base", *params["phases"]]
    for k, name in enumerate(names):
        _write_eval(tmp_path / "eval", name, (k + 1) / 8)
    assert _report(tmp_path, "--params", str(tmp_path / "params.yaml")) == 0
    table = json.loads((tmp_path / "p.json").read_text())
    assert list(table) == names
    assert table["p6"]["test"] == {"mean_iou": 0.875, "tumour": 0.875, "stroma": 0.4375}
    assert "| p6 | new_domain | 0.875 | 0.875 | 0.438 |" in capsys.readouterr().out


def test_a_phase_without_evaluation_is_a_one_line_error(tmp_path, capsys):
    _write_eval(tmp_path / "eval", "base", 0.5)
    assert _report(tmp_path, "--params", str(REPO / "params.yaml")) == 2
    err = capsys.readouterr().err
    assert "eval/p1/metrics.json: missing; run `hookseg evaluate" in err
    assert err.count("\n") == 1


def test_models_can_still_be_named_by_hand(tmp_path):
    _write_eval(tmp_path / "eval", "base", 0.5)
    assert _report(tmp_path, "--models", "base") == 0
    assert list(json.loads((tmp_path / "p.json").read_text())) == ["base"]

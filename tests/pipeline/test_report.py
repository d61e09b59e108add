"""``hookseg report``: models from params.yaml (base, then phases), CIs over slides, paired against base."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

from hookseg.cli import main as hookseg_main
from hookseg.evaluate.phases import flat_metrics

REPO = Path(__file__).resolve().parents[2]
CLASSES = ["background", "tumour", "other"]


def _confusion(slide: int, right: float) -> list[list[int]]:
    """A slide's 3x3 confusion: ``right`` of each class correct, slides differing in size."""
    total = 1000 * (slide + 1)
    hit = int(total * right)
    return [[hit if p == t else (total - hit if p == (t + 1) % 3 else 0) for p in range(3)] for t in range(3)]


def _write_eval(evals: Path, name: str, right: float, *, slides: int = 4, raw_gain: float = 0.0) -> None:
    """slides.json as ``hookseg evaluate`` writes it; accuracy varies by slide around ``right``."""
    data = {}
    for s in range(slides):
        cohort = "test" if s % 2 == 0 else "new_domain"
        acc = right - 0.1 * (s // 2)
        data[f"s{s}"] = {"cohort": cohort, "stain": ["ER", "HER2"][(s // 2) % 2], "scanner": "A",
                         "source": "DS1", "confusion": _confusion(s, acc),
                         "raw_confusion": _confusion(s, acc + raw_gain)}
    (evals / name).mkdir(parents=True)
    (evals / name / "slides.json").write_text(json.dumps({"classes": CLASSES, "slides": data}))


def _report(tmp_path: Path, *args: str) -> int:
    return hookseg_main(["report", *args, "--evals", str(tmp_path / "eval"), "--no-mlflow",
                         "--out", str(tmp_path / "p.json"), "--table", str(tmp_path / "p.md")])


def test_a_phase_added_to_params_is_reported_without_naming_it(tmp_path, capsys):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["phases"]["p6"] = {**params["phases"]["p5"], "prev": "p5", "init": "p5", "threshold": 0.4}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    names = ["base", *params["phases"]]
    for k, name in enumerate(names):
        _write_eval(tmp_path / "eval", name, 0.5 + k / 20, slides=8, raw_gain=0.02)
    assert _report(tmp_path, "--params", str(tmp_path / "params.yaml")) == 0
    table = json.loads((tmp_path / "p.json").read_text())
    assert list(table) == names
    p6 = table["p6"]["test"]
    # s0, s2, s4, s6 are test slides of 1, 3, 5, 7 thousand pixels per class at 0.8, 0.7, 0.6, 0.5 right
    right = np.array([0.8, 0.7, 0.6, 0.5]) * [1, 3, 5, 7]
    tp = right.sum() * 1000
    iou = tp / (tp + 2 * (16_000 - tp))
    assert p6["tumour"] == round(iou, 4) and p6["mean_iou"] == round(iou, 4)
    assert p6["mean_iou_ci_low"] < p6["mean_iou"] < p6["mean_iou_ci_high"]
    assert p6["mean_iou_raw"] > p6["mean_iou"]
    assert p6["vs_base"]["mean_iou_diff"] > 0 and p6["vs_base"]["mean_iou_diff_excludes_0"] is True
    assert "vs_base" not in table["base"]["test"]
    out = capsys.readouterr().out
    assert "| p6 | new_domain | 4 |" in out
    assert "| p5 (final) | test | 4 | **" in out  # params.yaml final, its CI excludes 0 (bold)
    assert "| test | stain | HER2 | 2 |" in out
    flat = flat_metrics(table)
    assert flat["p6.test.vs_base.tumour_diff_excludes_0"] == 1.0
    assert flat["base.new_domain.mean_iou_ci_high"] == table["base"]["new_domain"]["mean_iou_ci_high"]


def test_a_model_identical_to_base_differs_by_zero_with_a_zero_interval(tmp_path):
    _write_eval(tmp_path / "eval", "base", 0.7, slides=8)
    _write_eval(tmp_path / "eval", "p1", 0.7, slides=8)
    assert _report(tmp_path, "--models", "base,p1") == 0
    diff = json.loads((tmp_path / "p.json").read_text())["p1"]["test"]["vs_base"]
    assert (diff["mean_iou_diff"], diff["mean_iou_diff_ci_low"], diff["mean_iou_diff_ci_high"]) == (0, 0, 0)
    assert diff["mean_iou_diff_excludes_0"] is False
    assert "| **" not in (tmp_path / "p.md").read_text()  # no difference marked as excluding 0


def test_a_phase_without_evaluation_is_a_one_line_error(tmp_path, capsys):
    _write_eval(tmp_path / "eval", "base", 0.5)
    assert _report(tmp_path, "--params", str(REPO / "params.yaml")) == 2
    err = capsys.readouterr().err
    assert "eval/p1/slides.json: missing; run `hookseg evaluate" in err
    assert err.count("\n") == 1


def test_models_can_still_be_named_by_hand(tmp_path):
    _write_eval(tmp_path / "eval", "base", 0.5, slides=1)
    assert _report(tmp_path, "--models", "base") == 0
    table = json.loads((tmp_path / "p.json").read_text())
    assert list(table) == ["base"]
    assert table["base"]["test"]["mean_iou_ci_low"] is None  # one slide: no interval, not a fake one
    assert "new_domain" not in table["base"]


def test_mlflow_gets_the_numbers_of_phases_json(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.delenv("HOOKSEG_PARENT_RUN_ID", raising=False)
    _write_eval(tmp_path / "eval", "base", 0.6)
    _write_eval(tmp_path / "eval", "p1", 0.7)
    assert hookseg_main(["report", "--models", "base,p1", "--evals", str(tmp_path / "eval"),
                         "--out", str(tmp_path / "p.json"), "--table", str(tmp_path / "p.md")]) == 0
    flat = flat_metrics(json.loads((tmp_path / "p.json").read_text()))
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    (run,) = client.search_runs(experiments, filter_string="tags.stage = 'report'")
    logged = {k: v for k, v in run.data.metrics.items() if k in flat}
    assert logged == flat
    assert flat["p1.test.vs_base.mean_iou_diff"] > 0


def test_the_final_model_is_held_against_each_control(tmp_path, capsys):
    _write_eval(tmp_path / "eval", "base", 0.5, slides=8)
    _write_eval(tmp_path / "eval", "p1", 0.7, slides=8)
    _write_eval(tmp_path / "eval", "control_steps", 0.7, slides=8)  # as good as p1
    _write_eval(tmp_path / "eval", "control_manual", 0.6, slides=8)  # worse on every slide
    assert _report(tmp_path, "--models", "base,p1", "--controls", "control_steps,control_manual") == 0
    table = json.loads((tmp_path / "p.json").read_text())
    assert list(table) == ["base", "p1", "control_steps", "control_manual"]
    same, better = (table["p1"]["test"][f"vs_{c}"] for c in ("control_steps", "control_manual"))
    assert (same["mean_iou_diff"], same["mean_iou_diff_excludes_0"]) == (0, False)
    assert better["mean_iou_diff"] > 0 and better["mean_iou_diff_excludes_0"] is True
    out = capsys.readouterr().out
    assert "## p1 against the controls" in out and "| control_manual | test | 4 | **" in out
    assert _report(tmp_path, "--models", "base,p1", "--controls", "p1") == 2  # a control is not a model


def test_the_final_model_is_held_against_its_student(tmp_path, capsys):
    """Teacher minus student, paired, in its own section; a student may not reuse a model's or a control's
    name."""
    _write_eval(tmp_path / "eval", "base", 0.5, slides=8)
    _write_eval(tmp_path / "eval", "p1", 0.7, slides=8)
    _write_eval(tmp_path / "eval", "control_steps", 0.6, slides=8)
    _write_eval(tmp_path / "eval", "student", 0.65, slides=8)  # a little worse than its teacher everywhere
    assert _report(tmp_path, "--models", "base,p1", "--controls", "control_steps",
                   "--students", "student") == 0
    table = json.loads((tmp_path / "p.json").read_text())
    assert list(table) == ["base", "p1", "control_steps", "student"]
    gap = table["p1"]["new_domain"]["vs_student"]
    assert gap["mean_iou_diff"] > 0 and gap["mean_iou_diff_excludes_0"] is True
    assert gap["mean_iou_diff"] == round(table["p1"]["new_domain"]["mean_iou"]
                                         - table["student"]["new_domain"]["mean_iou"], 4)
    out = capsys.readouterr().out
    assert "## p1 against the students distilled from it" in out and "| student | new_domain | 4 | **" in out
    assert _report(tmp_path, "--models", "base,p1", "--controls", "control_steps",
                   "--students", "control_steps") == 2


def _add_fine(evals: Path, name: str, dcis_right: float) -> None:
    """Give each slide of ``name`` fine counts: its "other" row split into DCIS (``dcis_right`` of it labelled
    other, the rest tumour) and a vessel share always right; the confusion itself is left as it is."""
    path = evals / name / "slides.json"
    data = json.loads(path.read_text())
    data["fine_classes"] = {"dcis": "other", "vessel": "other", "tumour": "tumour"}
    for s in data["slides"].values():
        dcis = 1000
        s["fine"] = {"dcis": [0, dcis - int(dcis * dcis_right), int(dcis * dcis_right)],
                     "vessel": [0, 0, 500], "tumour": [10, 990, 0]}
    path.write_text(json.dumps(data))


def test_the_report_says_which_fine_label_each_model_loses(tmp_path, capsys):
    for name, right, dcis in (("base", 0.6, 0.2), ("p1", 0.7, 0.9)):
        _write_eval(tmp_path / "eval", name, right, slides=8)
        _add_fine(tmp_path / "eval", name, dcis)
    assert _report(tmp_path, "--models", "base,p1") == 0
    table = json.loads((tmp_path / "p.json").read_text())
    assert table["base"]["test"]["fine"]["other"] == {"dcis": 0.2, "vessel": 1.0}
    assert table["p1"]["new_domain"]["fine"]["other"]["dcis"] == 0.9
    assert flat_metrics(table)["p1.test.fine.tumour.tumour"] == 0.99
    out = capsys.readouterr().out
    assert "## test: recall of each fine ground-truth label" in out
    assert "| dcis | other | 0.200 | 0.900 |" in out
    # slides.json from before fine counting: the report has no fine section, and no error
    _write_eval(tmp_path / "old", "base", 0.6, slides=8)
    _write_eval(tmp_path / "old", "p1", 0.7, slides=8)
    assert hookseg_main(["report", "--models", "base,p1", "--evals", str(tmp_path / "old"), "--no-mlflow",
                         "--out", str(tmp_path / "q.json"), "--table", str(tmp_path / "q.md")]) == 0
    assert "fine ground-truth label" not in (tmp_path / "q.md").read_text()

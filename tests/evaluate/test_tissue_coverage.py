"""``hookseg tissue-coverage``: the share of each ground-truth label inside the tissue mask, on real slides
(banded tissue above a glass strip, read through OpenSlide) with a full ground-truth raster."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from hookseg.annotations.classes import ClassMap
from hookseg.cli import main
from hookseg.cohort import read_manifest
from hookseg.evaluate.tissue_coverage import cohort_coverage
from tests.factories import banded_cohort, write_manifest_rows

REPO = Path(__file__).resolve().parents[2]


def test_tissue_is_inside_the_mask_and_glass_is_not(tmp_path):
    manifest = banded_cohort(tmp_path / "cohort", {"t1": "test", "t2": "test", "v1": "val"}, size=(768, 512))
    pooled = cohort_coverage(read_manifest(manifest).records, ClassMap.default())
    assert set(pooled) == {"test", "val"}
    test = pooled["test"]
    assert test.total["glass"] > 0.15 * sum(test.total[k] for k in ("glass", "tumour", "stroma", "dcis"))
    assert test.share("glass") < 0.1
    for label in ("tumour", "stroma", "dcis"):
        assert test.share(label) > 0.9, label
    # classes pool their fine labels: dcis is the only "other" here, stroma and glass are background
    assert test.total["class:other"] == test.total["dcis"]
    assert test.total["class:background"] == test.total["stroma"] + test.total["glass"]
    assert test.inside["class:tumour"] == test.inside["tumour"]


def test_cli_prints_and_writes_the_tables_and_refuses_a_cohort_without_truth(tmp_path, capsys):
    manifest = banded_cohort(tmp_path / "cohort", {"t1": "test"}, size=(768, 512))
    out = tmp_path / "coverage.json"
    assert main(["tissue-coverage", "--manifest", str(manifest), "--split", "test", "--out", str(out)]) == 0
    assert "| glass |" in capsys.readouterr().out
    written = json.loads(out.read_text())
    assert written["test"]["glass"]["share"] < 0.1 < written["test"]["tumour"]["share"]

    rows = [dict(r.__dict__, ground_truth="", path=str(r.path), mpp="" if r.mpp is None else r.mpp)
            for r in read_manifest(manifest).records]
    bare = write_manifest_rows(tmp_path / "cohort" / "bare.csv", rows)
    assert main(["tissue-coverage", "--manifest", str(bare), "--split", "test"]) == 1
    assert "no slide of split 'test' has a full ground-truth raster" in capsys.readouterr().err


def test_another_tissue_config_is_measured_instead(tmp_path):
    """``--tissue-config`` compares masks: one that calls nothing tissue keeps none of the tumour."""
    manifest = banded_cohort(tmp_path / "cohort", {"t1": "test"}, size=(768, 512))
    settings = yaml.safe_load((REPO / "configs" / "slides.yaml").read_text())
    settings["tissue"]["max_value"] = 0.01  # every pixel is brighter: nothing is tissue
    config = tmp_path / "slides.yaml"
    config.write_text(yaml.safe_dump(settings))
    out = tmp_path / "coverage.json"
    args = ["tissue-coverage", "--manifest", str(manifest), "--split", "test", "--out", str(out)]
    assert main([*args, "--tissue-config", str(config)]) == 0
    assert json.loads(out.read_text())["test"]["tumour"]["share"] == 0.0
    assert main(args) == 0
    assert json.loads(out.read_text())["test"]["tumour"]["share"] > 0.9

from __future__ import annotations

import csv

import pytest

from hookseg.cli import main
from hookseg.cohort import assign_patient_splits, read_manifest
from hookseg.errors import ManifestError

COLUMNS = ["slide_id", "path", "stain", "scanner", "source", "split", "patient_id", "annotations", "mpp"]


def write_manifest(path, rows, columns=COLUMNS):
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def row(slide_id, **kw):
    base = {"slide_id": slide_id, "path": f"slides/{slide_id}.png", "stain": "ER", "scanner": "A",
            "source": "DS1", "split": "train", "patient_id": f"P{slide_id}", "annotations": "", "mpp": "0.5"}
    return {**base, **kw}


@pytest.fixture()
def cohort_dir(tmp_path, sample_ihc_png):
    (tmp_path / "slides").mkdir()
    for name in ("s1", "s2", "s3"):
        (tmp_path / "slides" / f"{name}.png").write_bytes(sample_ihc_png.read_bytes())
    return tmp_path


def test_valid_manifest_resolves_relative_paths(cohort_dir):
    path = write_manifest(cohort_dir / "manifest.csv", [row("s1"), row("s2", split="test", mpp="")])
    manifest = read_manifest(path)
    assert len(manifest) == 2
    assert manifest.get("s1").path == (cohort_dir / "slides" / "s1.png").resolve()
    assert manifest.get("s1").mpp == 0.5
    assert manifest.get("s2").mpp is None
    assert [r.slide_id for r in manifest.split("test")] == ["s2"]
    with manifest.get("s1").open() as slide:
        assert slide.mpp == 0.5


def test_missing_columns_are_named(cohort_dir):
    path = write_manifest(cohort_dir / "m.csv", [row("s1")], columns=["slide_id", "path", "stain"])
    with pytest.raises(ManifestError, match=r"missing column\(s\) \['scanner', 'source', 'split'"):
        read_manifest(path)


def test_every_problem_is_listed_in_one_error(cohort_dir):
    rows = [
        row("s1"),
        row("s1"),  # duplicate id
        row("s3", path="slides/absent.png"),  # missing file
        row("s4", path="slides/s2.png", split="training", mpp="-1"),  # bad split and mpp
        row("s5", path="slides/s3.png", patient_id="Ps1", split="test"),  # patient s1 also in train
        row("s6", path="slides/s3.png", annotations="ann/none.geojson"),
    ]
    path = write_manifest(cohort_dir / "m.csv", rows)
    with pytest.raises(ManifestError) as err:
        read_manifest(path)
    message = str(err.value)
    assert "\n" not in message
    assert "line 3 column slide_id: duplicate 's1' (first on line 2)" in message
    assert "line 4 column path: file not found" in message
    assert "line 5 column split: expected one of" in message
    assert "line 5 column mpp" in message
    assert "line 6 column patient_id: patient 'Ps1'" in message
    assert "line 7 column annotations: file not found" in message
    assert message.startswith(f"{path}: 6 problem(s)")


def test_cohort_check_cli(cohort_dir, capsys):
    path = write_manifest(cohort_dir / "manifest.csv", [row("s1"), row("s2", stain="HER2", split="val")])
    assert main(["cohort", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "OK, 2 slides" in out
    assert "HER2 1" in out
    bad = write_manifest(cohort_dir / "bad.csv", [row("s1", mpp="")])
    assert main(["cohort", "check", str(bad)]) == 1  # data error: the PNG has no mpp: opening fails
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "s1" in err
    assert "mpp" in err


def test_patient_split_never_splits_a_patient():
    patients = [f"P{i // 3}" for i in range(90)]  # 30 patients, 3 slides each
    strata = ["ER", "PR", "HER2"] * 30
    splits = assign_patient_splits(patients, {"train": 0.6, "val": 0.2, "test": 0.2}, seed=1, strata=strata)
    by_patient = {}
    for patient, split in zip(patients, splits, strict=True):
        by_patient.setdefault(patient, set()).add(split)
    assert all(len(s) == 1 for s in by_patient.values())
    counts = {name: splits.count(name) for name in ("train", "val", "test")}
    assert counts["train"] == pytest.approx(54, abs=6)
    assert counts["val"] == pytest.approx(18, abs=6)
    assert (
        assign_patient_splits(patients, {"train": 0.6, "val": 0.2, "test": 0.2}, seed=1, strata=strata)
        == splits
    )
    assert (
        assign_patient_splits(patients, {"train": 0.6, "val": 0.2, "test": 0.2}, seed=2, strata=strata)
        != splits
    )


def test_cohort_split_cli_writes_a_valid_manifest(cohort_dir, capsys):
    rows = [row(f"s{i}", path="slides/s1.png", patient_id=f"P{i // 2}") for i in range(12)]
    src = write_manifest(cohort_dir / "m.csv", rows)
    out = cohort_dir / "split.csv"
    assert main(["cohort", "split", str(src), "--out", str(out), "--seed", "3"]) == 0
    manifest = read_manifest(out)
    assert {r.split for r in manifest} <= {"train", "val", "test"}
    assert len(manifest) == 12


def test_prepare_copies_a_user_manifest_with_absolute_paths(cohort_dir, tmp_path):
    src = write_manifest(cohort_dir / "manifest.csv", [row("s1"), row("s2", split="val")])
    params = tmp_path / "params.yaml"
    params.write_text(f"cohort:\n  manifest: {src}\n")
    out = tmp_path / "data" / "cohort"
    assert main(["cohort", "prepare", "--params", str(params), "--out", str(out)]) == 0
    copied = read_manifest(out / "manifest.csv")
    assert [r.slide_id for r in copied] == ["s1", "s2"]
    assert copied.get("s1").path == (cohort_dir / "slides" / "s1.png").resolve()
    assert copied.get("s1").mpp == 0.5

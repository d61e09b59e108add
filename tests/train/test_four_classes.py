"""A 4-class map flows through the whole loop: base -> pseudo-labels -> phase 1 master -> evaluation.

The map is chosen once (``hookseg train --classes``), saved in the base model's metadata, recorded beside
the pseudo-labels, saved again in the master model, and names the evaluation's classes. Smoke profile.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hookseg.cli import main
from hookseg.model_meta import read_meta
from hookseg.sampling import open_labels, read_labels, write_label_raster
from tests.factories import banded_cohort

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "configs" / "smoke.yaml"
CLASSES = Path(__file__).with_name("classes_4.yaml")
NAMES = ("background", "tumour", "dcis", "other")


def four_class_labels(folder: Path) -> Path:
    """The factory's 3-band rasters with the third band split: DCIS (2) above, other (3) below."""
    out = folder / "labels4"
    for raster in sorted((folder / "labels").glob("*.tiff")):
        with open_labels(raster) as reader:
            labels = read_labels(reader, (0, 0), reader.dimensions, reader.mpp).copy()
        split = labels.shape[0] * 2 // 5
        third = labels == 2
        third[:split] = False
        labels[third] = 3
        write_label_raster(out / raster.name, labels, mpp=2.0)
    return out


def train(stage: str, manifest: Path, labels: Path, work: Path, *extra: str) -> Path:
    model = work / "model.keras"
    argv = ["train", "--config", str(SMOKE), "--stage", stage, "--manifest", str(manifest),
            "--labels", str(labels), "--work", str(work), "--out", str(model),
            "--metrics", str(work / "m.json"), *extra]
    assert main(argv) == 0
    return model


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_four_class_map_flows_base_pseudo_phase_evaluate(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    manifest = banded_cohort(tmp_path / "cohort", {"a": "train", "b": "val", "t": "test"}, size=(768, 512))
    labels = four_class_labels(tmp_path / "cohort")

    # smoke's base stage has static weights for 3 classes: one weight per class of this map instead
    base = train("base", manifest, labels, tmp_path / "base", "--classes", str(CLASSES),
                 "--class-weights", "1,1,1,1")
    base_meta = read_meta(base)
    assert base_meta.class_names == NAMES
    assert base_meta.class_map.club("dcis") == 2

    pseudo = tmp_path / "pseudo"
    assert main(["pseudo-label", "--model", str(base), "--manifest", str(manifest), "--out", str(pseudo),
                 "--threshold", "0.3", "--workers", "0"]) == 0
    assert tuple(c["name"] for c in json.loads((pseudo / "class_map.json").read_text())["classes"]) == NAMES
    with open_labels(pseudo / "a.tiff") as reader:
        ids = np.unique(read_labels(reader, (0, 0), reader.dimensions, reader.mpp))
    assert set(ids.tolist()) <= {0, 1, 2, 3, 255}

    master = train("master", manifest, pseudo, tmp_path / "p1", "--init", "none")  # map: the labels folder's
    assert read_meta(master).class_map.to_dict() == base_meta.class_map.to_dict()

    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(master), "--manifest", str(manifest), "--out", str(out),
                 "--workers", "0", "--no-mlflow"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(NAMES) <= set(metrics["test"])
    assert (out / "predictions" / "t" / "probabilities.1.tiff").exists()  # classes 3.. in a second RGB TIFF
    summary = json.loads((out / "predictions" / "t" / "summary.json").read_text())
    assert set(summary["area_mm2"]) == set(NAMES)


def test_classes_that_differ_from_the_labels_folder_are_one_line_errors(tmp_path, capsys):
    folder = tmp_path / "labels"
    folder.mkdir()
    from hookseg.annotations import ClassMap
    from hookseg.cohort.labels import write_folder_class_map

    write_folder_class_map(folder, ClassMap.from_yaml(CLASSES))
    code = main(["train", "--config", str(SMOKE), "--manifest", str(tmp_path / "m.csv"),
                 "--labels", str(folder), "--work", str(tmp_path / "w"), "--out", str(tmp_path / "m.keras"),
                 "--metrics", str(tmp_path / "m.json"), "--classes", str(REPO / "configs" / "classes.yaml")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "classes.yaml:classes: expected the classes of" in err
    assert "Received: ['background', 'tumour', 'other']" in err

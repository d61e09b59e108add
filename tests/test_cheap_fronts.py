"""Cheap package fronts: the package, slide/cohort/annotation commands and scoring finished predictions import
neither Keras nor TensorFlow (each costs seconds at start-up and is needed only to run a model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely

from hookseg.annotations import Annotation, AnnotationSet, ClassMap, write_annotations
from hookseg.infer.outputs import SlideOutputs
from hookseg.infer.writers import write_probability_tiffs
from hookseg.model_meta import META_MEMBER, FieldOfView, ModelMeta
from hookseg.sampling.labels import write_label_raster
from tests.factories import banded_cohort

REPO = Path(__file__).resolve().parents[1]

# Runs hookseg's CLI in-process, then fails if a backend was imported on the way.
PROBE = """
import sys
from hookseg.cli import main
argv = sys.argv[1:]
code = main(argv) if argv else 0
loaded = sorted(m for m in ("keras", "tensorflow", "torch", "jax") if m in sys.modules)
assert not loaded, f"hookseg {' '.join(argv[:2])} imported {loaded}"
sys.exit(code)
"""


def run_front(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "MLFLOW_TRACKING_URI": "sqlite:///:memory:"}
    return subprocess.run([sys.executable, "-c", PROBE, *argv], env=env, capture_output=True, text=True,
                          timeout=120, cwd=REPO)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fronts")
    return banded_cohort(folder, {"t1": "test"}, size=(512, 256))


@pytest.fixture(scope="module")
def finished_evaluation(cohort, tmp_path_factory) -> tuple[Path, Path]:
    """A model file holding only its metadata, and its finished prediction of the cohort's one slide."""
    folder = tmp_path_factory.mktemp("eval")
    model = folder / "model.keras"
    meta = ModelMeta(FieldOfView(size=64, mpp=2.0, context_mpp=None), ClassMap.default(), "test")
    with zipfile.ZipFile(model, "w") as archive:  # scoring never loads the network, so none is needed
        archive.writestr(META_MEMBER, meta.to_json())
    outputs = SlideOutputs(folder / "out" / "predictions" / "t1")
    band = np.minimum(np.arange(256) * 3 // 256, 2).astype(np.uint8)
    labels = np.repeat(band[None], 128, axis=0)
    labels[256 * 4 // 5 // 2 :] = 0  # the factory's glass strip (background), at 2 um/px
    write_label_raster(outputs.labels, labels, mpp=2.0)
    write_probability_tiffs(outputs.probability_parts(3), (np.eye(3, dtype=np.uint8) * 255)[labels], 2.0)
    outputs.summary.write_text(json.dumps({"slide_id": "t1"}))
    # made by this model with the default settings: evaluate skips only such a prediction
    from hookseg.cohort import read_manifest
    from hookseg.infer.params import InferParams
    from hookseg.infer.provenance import PROVENANCE, model_hashes, provenance

    mpp = next(r.mpp for r in read_manifest(cohort) if r.slide_id == "t1")
    made_by = provenance(model_hashes(model), InferParams.from_yaml(None), mpp)
    (outputs.folder / PROVENANCE).write_text(json.dumps(made_by))
    return model, folder / "out"


def test_import_hookseg_is_backend_free():
    result = run_front()
    assert result.returncode == 0, result.stderr[-2000:]


def test_info_cohort_and_annotations_commands_are_backend_free(cohort, tmp_path):
    slide = cohort.parent / "t1.tif"
    geojson = write_annotations(AnnotationSet([Annotation(shapely.box(0, 0, 50, 50), "dcis")]),
                                tmp_path / "a.geojson")
    for argv in (["info", str(slide)], ["cohort", "check", str(cohort)],
                 ["annotations", "info", str(geojson), "--classes", str(REPO / "configs" / "classes.yaml")],
                 ["annotations", "convert", str(geojson), str(tmp_path / "a.xml")]):
        result = run_front(*argv)
        assert result.returncode == 0, f"{argv}: {result.stderr[-2000:]}"


def test_scoring_finished_predictions_is_backend_free(cohort, finished_evaluation):
    model, out = finished_evaluation
    result = run_front("evaluate", "--model", str(model), "--manifest", str(cohort), "--out", str(out),
                       "--workers", "0", "--no-mlflow")
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["slides"] == 1
    assert metrics["test"]["mean_iou"] > 0.99  # the "prediction" is the truth

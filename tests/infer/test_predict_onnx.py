"""``hookseg predict --model DIR`` with an ONNX export: the same streaming pipeline run by onnxruntime, with
no Keras or TensorFlow import, gives the label map and probabilities the ``.keras`` model gives on a real
slide; provenance hashes the ONNX file."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from hookseg.cli import main

REPO = Path(__file__).resolve().parents[2]
# hookseg predict in a fresh interpreter, failing if a backend was imported on the way.
PROBE = """
import sys
from hookseg.cli import main
code = main(sys.argv[1:])
loaded = sorted(m for m in ("keras", "tensorflow", "torch", "jax") if m in sys.modules)
assert not loaded, f"predicting with an ONNX export imported {loaded}"
sys.exit(code)
"""


@pytest.fixture(scope="module")
def keras_and_onnx(munet_and_onnx) -> tuple[Path, Path]:
    """The session's m-UNet as .keras and as its ONNX export (64 px at 4 / 8 um/px: the slide is 35 tiles)."""
    _, path, export = munet_and_onnx
    return path, export


def test_onnx_export_predicts_a_real_slide_like_keras_without_importing_it(keras_and_onnx, sample_svs_jpeg,
                                                                           tmp_path):
    keras_model, export = keras_and_onnx
    with_keras, with_onnx = tmp_path / "keras", tmp_path / "onnx"

    config = tmp_path / "infer.yaml"  # raw argmax labels: no region cleaning to hide a disagreement
    settings = yaml.safe_load((REPO / "configs" / "infer.yaml").read_text())
    settings["infer"].update(min_region_um2=0.0, fill_holes_um2=0.0)
    config.write_text(yaml.safe_dump(settings))

    def argv(model: Path, out: Path) -> list[str]:
        return ["predict", str(sample_svs_jpeg), "--model", str(model), "--out", str(out), "--workers", "0",
                "--config", str(config)]

    assert main(argv(keras_model, with_keras)) == 0
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run([sys.executable, "-c", PROBE, *argv(export, with_onnx)], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    stem = sample_svs_jpeg.stem
    a, b = with_keras / stem, with_onnx / stem
    labels_a, labels_b = tifffile.imread(a / "labels.tiff"), tifffile.imread(b / "labels.tiff")
    assert labels_a.shape == labels_b.shape
    assert np.bincount(labels_a.ravel(), minlength=3)[:3].min() > 0.01 * labels_a.size, "too easy to agree"
    assert (labels_a == labels_b).mean() >= 0.999
    probs_a = tifffile.imread(a / "probabilities.tiff").astype(np.int16)
    probs_b = tifffile.imread(b / "probabilities.tiff").astype(np.int16)
    steps = np.abs(probs_a - probs_b)  # uint8 probability x 255: a float difference of 1e-6 can round apart
    assert steps.max() <= 1 and (steps > 0).mean() <= 1e-3
    summary_a, summary_b = (json.loads((f / "summary.json").read_text()) for f in (a, b))
    assert summary_a["tiles"] == summary_b["tiles"] > 0
    made_by = json.loads((b / "provenance.json").read_text())
    sha256 = {name: hashlib.sha256((export / name).read_bytes()).hexdigest()
              for name in ("model.onnx", "hookseg-export.json")}
    assert (made_by["model_sha256"], made_by["sidecar_sha256"]) == tuple(sha256.values())


def test_onnx_model_answers_the_pipeline_call_like_keras(keras_and_onnx, sample_svs_jpeg):
    """Before uint8 quantisation: the probabilities of a real batch agree within 1e-3 (fp32)."""
    from hookseg.infer.onnx_model import load_onnx_model
    from hookseg.infer.tile_reads import read_batch
    from hookseg.model_io import load_model_cached
    from hookseg.slides import open_slide

    keras_model, export = keras_and_onnx
    model, meta = load_model_cached(keras_model)  # as predict left it: loaded, traced for batches of 4
    onnx_model, onnx_meta = load_onnx_model(export)
    assert onnx_meta.fov == meta.fov and onnx_meta.class_names == meta.class_names
    with open_slide(sample_svs_jpeg) as slide:
        batch = read_batch(slide, meta, [(60, 90), (100, 150), (150, 200), (200, 300)])
    want, got = model.predict_on_batch(batch), onnx_model.predict_on_batch(batch)
    assert set(got) == set(want) == {"final", "context"}
    for key in want:
        assert np.abs(got[key] - want[key]).max() <= 1e-3, key

"""``hookseg export``: a TensorFlow SavedModel that ``tf.saved_model.load`` runs, and an ONNX graph that
onnxruntime runs, like the Keras model on real tiles (max |difference| <= 1e-4 in fp32), each with a dynamic
batch and a JSON stating its inputs and classes that ``read_meta`` reads back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hookseg.annotations import ClassMap
from hookseg.cli import main
from hookseg.model import create_model
from hookseg.model_io import ModelMeta, save_model
from hookseg.model_meta import FieldOfView, read_meta
from hookseg.slides import TissueParams, open_slide

SIZE = 64


def _tiles(slide_path, mpp: float, count: int = 3) -> np.ndarray:
    """``count`` real tiles of ``SIZE`` px at ``mpp`` from the slide's middle band."""
    with open_slide(slide_path) as slide:
        width, height = slide.dimensions
        centres = [(width * (k + 1) // (count + 1), height // 2) for k in range(count)]
        return np.stack([slide.read_at_center(c, (SIZE, SIZE), mpp=mpp) for c in centres]).astype("float32")


@pytest.fixture(scope="module", params=["munet", "unet"])
def saved(request, tmp_path_factory, sample_svs_jpeg, munet_and_onnx) -> tuple[Any, Path, dict]:
    """(Keras model, its .keras file, 3 real tiles per input) per architecture; the m-UNet is the session's
    (``munet_and_onnx``: its ONNX export is made once and shared with the prediction test), the U-Net is the
    distilled student's (MobileNetV3-Small, narrow decoder: what a lab deploys for speed; a third of a B0
    U-Net's conversion time)."""
    if request.param == "munet":
        model, path, _ = munet_and_onnx
        fov = read_meta(path).fov
        x = {"target": _tiles(sample_svs_jpeg, fov.mpp), "context": _tiles(sample_svs_jpeg, fov.context_mpp)}
        return model, path, x
    model = create_model("unet", encoder="mnv3s", input_size=SIZE, decoder_filters=[32, 24, 16, 16, 8])
    fov = FieldOfView(size=SIZE, mpp=2.0, context_size=SIZE, context_mpp=None)
    pale = {**TissueParams.load().as_dict(), "max_threshold": 0.03}  # a mask of its own, to travel along
    path = save_model(model, tmp_path_factory.mktemp("unet") / "unet.keras",
                      ModelMeta(fov, ClassMap.default(), stage="test", tissue=pale))
    return model, path, {"target": _tiles(sample_svs_jpeg, 2.0)}


@pytest.fixture(scope="module")
def onnx_export(saved, munet_and_onnx, tmp_path_factory) -> Path:
    """The ONNX export of ``saved``'s model: the session's for the m-UNet, made by the CLI here otherwise."""
    model, path, _ = saved
    if path == munet_and_onnx[1]:
        return munet_and_onnx[2]
    out = tmp_path_factory.mktemp("onnx") / "export"
    assert main(["export", "--model", str(path), "--format", "onnx", "--out", str(out)]) == 0
    return out


def test_savedmodel_matches_keras_on_real_tiles(saved, tmp_path, capsys):
    import tensorflow as tf

    model, path, x = saved
    out = tmp_path / "export"
    assert main(["export", "--model", str(path), "--format", "savedmodel", "--out", str(out)]) == 0
    served = tf.saved_model.load(str(out)).signatures["serve"]
    got = served(**{k: tf.constant(v) for k, v in x.items()})
    want = model(x, training=False)
    if not isinstance(want, dict):  # a single-output model: the export has one output
        assert len(got) == 1
        want, got = {"final": want}, {"final": next(iter(got.values()))}
    assert set(got) == set(want)
    for key, expected in want.items():
        assert np.abs(np.asarray(got[key]) - np.asarray(expected)).max() <= 1e-4, key
    single = served(**{k: tf.constant(v[:1]) for k, v in x.items()})  # another batch size, same graph
    assert next(iter(single.values())).shape[0] == 1
    sidecar = json.loads((out / "hookseg-export.json").read_text())
    inputs = {i["name"]: i for i in sidecar["inputs"]}
    assert set(inputs) == set(x)
    assert {k: inputs["target"][k] for k in ("mpp", "value_range", "channel_order", "shape")} == \
        {"mpp": read_meta(path).fov.mpp, "value_range": [0.0, 255.0], "channel_order": "RGB",
         "shape": ["batch", SIZE, SIZE, 3]}
    assert "context" not in inputs or inputs["context"]["mpp"] == read_meta(path).fov.context_mpp
    assert [c["name"] for c in sidecar["classes"]] == list(ClassMap.default().names)
    assert sidecar["ignore_id"] == ClassMap.default().ignore_id
    assert str(out) in capsys.readouterr().out


def test_onnx_matches_keras_on_real_tiles_with_a_dynamic_batch(saved, onnx_export):
    import onnxruntime as ort

    model, path, x = saved
    out = onnx_export
    sidecar = json.loads((out / "hookseg-export.json").read_text())
    assert (sidecar["format"], sidecar["file"]) == ("onnx", "model.onnx")
    assert sorted(p.name for p in out.iterdir()) == ["hookseg-export.json", "model.onnx"]
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    assert sorted(i.name for i in session.get_inputs()) == sorted(i["name"] for i in sidecar["inputs"])
    assert sorted(i.name for i in session.get_inputs()) == sorted(x)  # target (+ context for the m-UNet)
    assert all(i.shape == ["batch", SIZE, SIZE, 3] for i in session.get_inputs())
    keras_name = {o["name"]: o["keras_name"] for o in sidecar["outputs"]}
    assert sorted(o.name for o in session.get_outputs()) == sorted(keras_name)
    assert keras_name.get("context_output", "context") == "context"  # no output may reuse an input's name
    want = model(x, training=False)
    want = want if isinstance(want, dict) else {"final": want}
    assert sorted(keras_name.values()) == sorted(want)
    for batch in (3, 1):  # one graph, two batch sizes
        names = [o.name for o in session.get_outputs()]
        got = dict(zip(names, session.run(names, {k: v[:batch] for k, v in x.items()}), strict=True))
        for name, value in got.items():
            assert value.shape == (batch, SIZE, SIZE, len(ClassMap.default().names)), name
            difference = np.abs(value - np.asarray(want[keras_name[name]])[:batch]).max()
            assert difference <= 1e-4, (name, batch, difference)
    exported, original = read_meta(out), read_meta(path)  # the folder reads back like its .keras file
    assert (exported.fov, exported.stage, exported.tissue) == (original.fov, original.stage, original.tissue)
    assert exported.class_map.to_dict() == original.class_map.to_dict()

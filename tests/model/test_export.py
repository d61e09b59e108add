"""``hookseg export``: a TensorFlow SavedModel that ``tf.saved_model.load`` runs like the Keras model on real
tiles (max |difference| <= 1e-4 in fp32), with a dynamic batch and a JSON stating its inputs and classes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hookseg.annotations import ClassMap
from hookseg.cli import main
from hookseg.model import create_model
from hookseg.model_io import ModelMeta, save_model
from hookseg.model_meta import FieldOfView
from hookseg.slides import open_slide

SIZE = 64


def _tiles(slide_path, mpp: float, count: int = 3) -> np.ndarray:
    """``count`` real tiles of ``SIZE`` px at ``mpp`` from the slide's middle band."""
    with open_slide(slide_path) as slide:
        width, height = slide.dimensions
        centres = [(width * (k + 1) // (count + 1), height // 2) for k in range(count)]
        return np.stack([slide.read_at_center(c, (SIZE, SIZE), mpp=mpp) for c in centres]).astype("float32")


@pytest.mark.parametrize("arch", ["munet", "unet"])
def test_savedmodel_matches_keras_on_real_tiles(arch, tmp_path, sample_svs_jpeg, capsys):
    import tensorflow as tf

    if arch == "munet":
        model = create_model("munet", encoder="b0", input_size=SIZE, context_ratio=2)
        fov = FieldOfView(size=SIZE, mpp=2.0, context_size=SIZE, context_mpp=4.0)
        x = {"target": _tiles(sample_svs_jpeg, 2.0), "context": _tiles(sample_svs_jpeg, 4.0)}
    else:
        model = create_model("unet", encoder="b0", input_size=SIZE)
        fov = FieldOfView(size=SIZE, mpp=2.0, context_size=SIZE, context_mpp=None)
        x = {"target": _tiles(sample_svs_jpeg, 2.0)}
    path = save_model(model, tmp_path / f"{arch}.keras", ModelMeta(fov, ClassMap.default(), stage="test"))
    out = tmp_path / f"{arch}-export"
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
        {"mpp": 2.0, "value_range": [0.0, 255.0], "channel_order": "RGB", "shape": ["batch", SIZE, SIZE, 3]}
    assert "context" not in inputs or inputs["context"]["mpp"] == 4.0
    assert [c["name"] for c in sidecar["classes"]] == list(ClassMap.default().names)
    assert sidecar["ignore_id"] == ClassMap.default().ignore_id
    assert str(out) in capsys.readouterr().out

from __future__ import annotations

import keras
import numpy as np
import pytest

from hookseg.model_io import ModelMeta, save_model
from hookseg.sampling import FieldOfView
from tests.factories import COLOURS


def nearest_colour_model(size: int, context: bool) -> keras.Model:
    """A 1x1-conv softmax that labels each pixel by its nearest band colour: a model whose right answer is known."""
    centroids = np.array([COLOURS[k] for k in range(3)], np.float32)
    kernel = (2 * centroids.T * 0.002)[None, None]  # (1, 1, 3, 3)
    bias = -(centroids**2).sum(1) * 0.002
    target = keras.Input((size, size, 3), name="target")
    conv = keras.layers.Conv2D(3, 1, name="colour_head")
    probs = keras.layers.Softmax(name="final")(conv(target))
    inputs = [target]
    outputs = {"final": probs}
    if context:
        ctx = keras.Input((size, size, 3), name="context")
        inputs.append(ctx)
        outputs["context"] = keras.layers.Softmax(name="context_out")(conv(ctx))
    model = keras.Model(inputs, outputs)
    conv.set_weights([kernel, bias])
    return model


@pytest.fixture(scope="session")
def colour_model(tmp_path_factory):
    model = nearest_colour_model(64, context=True)
    meta = ModelMeta(FieldOfView(size=64, mpp=2.0, context_size=64, context_mpp=8.0), stage="test")
    path = save_model(model, tmp_path_factory.mktemp("models") / "colour.keras", meta)
    return model, meta, path

"""The compiled training model: a logits view that trains the saved model; confusion without predict."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from hookseg.annotations import ClassMap
from hookseg.model import create_model
from hookseg.train.config import load_stage_config
from hookseg.train.loop import compile_model, confusion_on

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SIZE = 64


class _Data(keras.utils.PyDataset):
    def __init__(self, batches: int = 2) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        shape = (2, SIZE, SIZE)
        self.items = [({"target": rng.uniform(0, 255, (*shape, 3)).astype("float32")},
                       {"final": rng.integers(0, 3, shape).astype("int32")}) for _ in range(batches)]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        return self.items[i]


def _stage(logits_loss: bool):
    config = load_stage_config(CONFIGS / "demo.yaml", "base")
    config = config.with_train(run_eagerly=True, logits_loss=logits_loss)
    model = create_model("unet", encoder="b0", input_size=SIZE, decoder_filters=[16, 16, 16, 16, 16])
    return config, model


@pytest.mark.parametrize("logits_loss", [True, False])
def test_fitting_the_compiled_model_trains_the_saved_one(logits_loss) -> None:
    config, model = _stage(logits_loss)
    fitted = compile_model(model, config, ClassMap.default())
    assert (fitted is not model) == logits_loss
    assert fitted.loss["final"].from_logits == logits_loss
    before = [w.copy() for w in model.get_weights()]
    x, y = _Data()[0]
    fitted.train_on_batch(x, y)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    probs = keras.ops.convert_to_numpy(model(x, training=False)["final"])
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)  # what gets saved still gives probabilities


def test_confusion_by_evaluate_equals_the_batchwise_one() -> None:
    config, model = _stage(True)
    fitted = compile_model(model, config, ClassMap.default())
    data = _Data(batches=2)
    by_evaluate = confusion_on(fitted, data, 3)
    batchwise = confusion_on(model, data, 3)  # not compiled: predict batch by batch
    assert by_evaluate.sum() == 2 * 2 * SIZE * SIZE
    np.testing.assert_array_equal(by_evaluate, batchwise)


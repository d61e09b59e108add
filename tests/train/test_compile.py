"""The compiled training model: a logits view that trains the saved model; its state built before fit
traces; the val confusion without predict or a second evaluate."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from hookseg.annotations import ClassMap
from hookseg.model import create_model
from hookseg.train.config import load_stage_config
from hookseg.train.loop import build_training_state, compile_model, confusion_on, final_confusion

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
    """Equal but for pixels whose top two probabilities tie within float32 noise: the compiled graph and
    eager predict may break such a tie differently (an untrained model's softmax is nearly flat)."""
    config, model = _stage(True)
    fitted = compile_model(model, config, ClassMap.default())
    data = _Data(batches=2)
    by_evaluate = confusion_on(fitted, data, 3)
    batchwise = confusion_on(model, data, 3)  # not compiled: predict batch by batch
    near_ties = sum(_near_ties(model.predict_on_batch(data[i][0])["final"]) for i in range(len(data)))
    assert by_evaluate.sum() == batchwise.sum() == 2 * 2 * SIZE * SIZE
    assert near_ties < 0.01 * batchwise.sum()  # else the comparison below would say little
    # a pixel that moves from one column to another changes two cells by one each
    assert np.abs(by_evaluate - batchwise).sum() <= 2 * near_ties
    np.testing.assert_array_equal(by_evaluate.sum(1), batchwise.sum(1))  # rows are the truth: same pixels


def _near_ties(probs: np.ndarray, margin: float = 1e-5) -> int:
    """Pixels whose best and second-best class probabilities differ by less than ``margin``."""
    top_two = np.sort(np.asarray(probs), axis=-1)[..., -2:]
    return int((top_two[..., 1] - top_two[..., 0] < margin).sum())


def test_training_state_exists_before_fit_traces_its_step() -> None:
    """Optimizer slots, loss trackers and metric variables: created inside the first traced step, they make
    tf.function trace that step again (the graph build a demo stage paid twice)."""
    config, model = _stage(True)
    fitted = compile_model(model, config, ClassMap.default())
    assert not fitted.optimizer.built
    build_training_state(fitted, _Data()[0])
    assert fitted.optimizer.built
    assert fitted._compile_metrics.built and fitted._compile_loss.built
    variables = len(fitted.variables) + len(fitted.optimizer.variables)
    fitted.fit(_Data(), epochs=1, verbose=0)
    assert len(fitted.variables) + len(fitted.optimizer.variables) == variables


def test_the_val_confusion_after_fit_is_the_last_validation_pass() -> None:
    config, model = _stage(True)
    fitted = compile_model(model, config, ClassMap.default())
    train, val = _Data(batches=2), _Data(batches=3)
    fitted.fit(train, validation_data=val, epochs=1, verbose=0)
    after_fit = final_confusion(fitted, val, train, 3)
    assert after_fit.sum() == 3 * 2 * SIZE * SIZE  # every val pixel once: the pass, not train batches
    np.testing.assert_array_equal(after_fit, confusion_on(model, val, 3))

"""Teacher test-time augmentation: flipped inputs, outputs flipped back and averaged."""

from __future__ import annotations

import numpy as np
import pytest

from hookseg.infer.params import InferParams
from hookseg.infer.predict import predict_probabilities
from hookseg.slides import open_slide
from pseudo_label.tta import FlipTTA, with_tta
from tests.factories import banded_slide


class _Echo:
    """Returns its target plus its context: right only if both are flipped alike and flipped back."""

    def predict_on_batch(self, batch):
        return {"final": batch["target"] + batch["context"]}


class _Fixed:
    """Ignores its input: always the same left-to-right ramp."""

    def __init__(self, ramp: np.ndarray) -> None:
        self.ramp = ramp

    def predict_on_batch(self, batch):
        return {"final": np.broadcast_to(self.ramp, batch["target"].shape).copy()}


@pytest.mark.parametrize("tta", [2, 4])
def test_flips_reach_target_and_context_alike_and_outputs_are_flipped_back(tta):
    rng = np.random.default_rng(0)
    batch = {"target": rng.random((2, 8, 8, 3), np.float32), "context": rng.random((2, 8, 8, 3), np.float32)}
    expected = batch["target"] + batch["context"]
    np.testing.assert_allclose(FlipTTA(_Echo(), tta).predict_on_batch(batch)["final"], expected, rtol=1e-6)


def test_outputs_are_averaged_over_the_flips():
    ramp = np.linspace(0, 1, 8, dtype=np.float32)[None, None, :, None]
    batch = {"target": np.zeros((1, 8, 8, 3), np.float32)}
    out = FlipTTA(_Fixed(ramp), 2).predict_on_batch(batch)["final"]
    np.testing.assert_allclose(out, np.broadcast_to((ramp + ramp[:, :, ::-1]) / 2, out.shape), rtol=1e-6)


def test_with_tta_zero_is_the_model_and_a_bad_count_is_refused():
    model = _Echo()
    assert with_tta(model, 0) is model
    with pytest.raises(ValueError, match=r"^tta: expected one of \[0, 2, 4\]\. Received: 3$"):
        FlipTTA(model, 3)


def test_a_flip_equivariant_model_predicts_the_same_slide_with_and_without_tta(colour_model, tmp_path):
    model, meta, _ = colour_model  # 1x1 convolutions: flipping changes nothing
    slide_path, _ = banded_slide(tmp_path, "s", size=(768, 512), mpp=1.0)
    params = InferParams.load()
    with open_slide(slide_path) as slide:
        plain = predict_probabilities(model, meta, slide, tmp_path / "plain.npy", params).open()
        flipped = predict_probabilities(with_tta(model, 4), meta, slide, tmp_path / "tta.npy", params).open()
    np.testing.assert_array_equal(flipped, plain)

"""Weighted CE + weighted Dice against an independent NumPy reference, with ignore pixels."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hookseg.errors import ConfigError
from hookseg.losses import (
    WeightedCEDiceLoss,
    branch_losses,
    weighted_categorical_crossentropy,
    weighted_ce_dice,
    weighted_dice_loss,
)

EPS = 1e-7


def reference(labels, probs, class_weights, ce=1.0, dice=1.0, ignore=255) -> float:
    """Plain NumPy, pixel selection by boolean indexing (no one-hot), loops over classes."""
    num_classes = probs.shape[-1]
    keep = (labels != ignore) & (labels >= 0) & (labels < num_classes)
    y, p = labels[keep], probs[keep].astype(np.float64)
    n = max(len(y), 1)
    counts = np.array([(y == c).sum() for c in range(num_classes)], dtype=np.float64)
    if class_weights == "dynamic":
        present = counts > 0
        raw = np.where(present, 1 - counts / n, 0.0)
        w = raw * present.sum() / raw.sum() if raw.sum() > 0 else present.astype(np.float64)
    else:
        w = np.asarray(class_weights, dtype=np.float64)
    total = 0.0
    for c in range(num_classes):
        ce_c = -np.log(np.clip(p[y == c, c], EPS, 1 - EPS)).sum() / n
        dice_c = 1 - 2 * p[y == c, c].sum() / (counts[c] + p[:, c].sum()) if counts[c] else 0.0
        total += w[c] * (ce * ce_c + dice * dice_c)
    return total


def _batch(seed: int, shape=(2, 6, 7), num_classes: int = 3, ignore_fraction: float = 0.25, absent=None):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (*shape, num_classes))
    probs = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype("float32")
    labels = rng.integers(0, num_classes, shape)
    if absent is not None:
        labels[labels == absent] = (absent + 1) % num_classes
    labels[rng.random(shape) < ignore_fraction] = 255
    return labels.astype("int32"), probs


def _value(x) -> float:
    return float(keras.ops.convert_to_numpy(x))


@pytest.mark.parametrize("weights", ["dynamic", [0.5, 2.0, 1.0]])
@pytest.mark.parametrize("absent", [None, 2])
def test_matches_numpy_reference(weights, absent) -> None:
    labels, probs = _batch(seed=7, absent=absent)
    got = _value(weighted_ce_dice(labels, probs, weights))
    assert got == pytest.approx(reference(labels, probs, weights), rel=1e-5)


def test_ce_and_dice_parts_match_reference() -> None:
    labels, probs = _batch(seed=11)
    wce = _value(weighted_categorical_crossentropy(labels, probs))
    wdl = _value(weighted_dice_loss(labels, probs))
    assert wce == pytest.approx(reference(labels, probs, "dynamic", dice=0.0), rel=1e-5)
    assert wdl == pytest.approx(reference(labels, probs, "dynamic", ce=0.0), rel=1e-5)


def test_unit_static_weights_give_plain_mean_crossentropy() -> None:
    labels, probs = _batch(seed=2)
    keep = labels != 255
    plain = -np.mean(np.log(np.take_along_axis(probs[keep], labels[keep][:, None], 1)))
    got = _value(weighted_categorical_crossentropy(labels, probs, [1.0, 1.0, 1.0]))
    assert got == pytest.approx(plain, rel=1e-5)


def test_predictions_under_ignored_pixels_do_not_matter() -> None:
    labels, probs = _batch(seed=3)
    changed = probs.copy()
    changed[labels == 255] = np.roll(probs[labels == 255], 1, axis=-1)
    assert not np.allclose(changed, probs)
    assert _value(weighted_ce_dice(labels, changed)) == pytest.approx(_value(weighted_ce_dice(labels, probs)))


def test_perfect_prediction_has_near_zero_loss_and_all_ignored_is_zero() -> None:
    labels, _ = _batch(seed=4)
    perfect = np.eye(3, dtype="float32")[np.where(labels == 255, 0, labels)]
    assert _value(weighted_ce_dice(labels, perfect)) < 1e-4
    assert _value(weighted_ce_dice(np.full_like(labels, 255), perfect)) == 0.0


def test_loss_class_accepts_keras_float_labels_and_channel_axis() -> None:
    labels, probs = _batch(seed=5)
    loss = WeightedCEDiceLoss([1.0, 0.5, 2.0])
    expected = reference(labels, probs, [1.0, 0.5, 2.0])
    assert _value(loss(labels.astype("float32"), probs)) == pytest.approx(expected, rel=1e-5)
    assert _value(loss(labels[..., None], probs)) == pytest.approx(expected, rel=1e-5)
    clone = WeightedCEDiceLoss.from_config(loss.get_config())
    assert clone.class_weights == [1.0, 0.5, 2.0] and clone.ignore_label == 255


def test_branch_losses_follow_output_names() -> None:
    losses, weights = branch_losses(["final", "context"], branch_weights={"final": 1.0, "context": 0.25})
    assert set(losses) == {"final", "context"} and weights == {"final": 1.0, "context": 0.25}
    with pytest.raises(ConfigError, match="context"):
        branch_losses(["final", "context"], branch_weights={"final": 1.0})
    with pytest.raises(ConfigError, match="'uniform'"):
        WeightedCEDiceLoss("uniform")


def _reference_logits_ce(labels, logits, class_weights, ignore=255) -> float:
    """Weighted CE from logits in float64 with a max-shifted log-sum-exp, pixels picked by indexing."""
    num_classes = logits.shape[-1]
    keep = (labels != ignore) & (labels >= 0) & (labels < num_classes)
    y, z = labels[keep], logits[keep].astype(np.float64)
    shifted = z - z.max(-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    w = np.asarray(class_weights, dtype=np.float64)
    return float(sum(-w[c] * log_p[y == c, c].sum() for c in range(num_classes)) / max(len(y), 1))


@pytest.mark.parametrize("weights", [[1.0, 1.0, 1.0], [0.5, 2.0, 1.0]])
def test_logits_crossentropy_matches_reference(weights) -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 3, (2, 6, 7, 3)).astype("float32")
    labels, _ = _batch(seed=3)
    got = _value(weighted_ce_dice(labels, logits, weights, dice_weight=0.0, from_logits=True))
    assert got == pytest.approx(_reference_logits_ce(labels, logits, weights), abs=1e-5)


def test_logits_loss_equals_probability_loss_away_from_the_clip() -> None:
    """Same CE and Dice as the probability path wherever no probability reaches the clip."""
    rng = np.random.default_rng(5)
    logits = rng.normal(0, 1, (2, 5, 5, 3)).astype("float32")
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    labels, _ = _batch(seed=5, shape=(2, 5, 5))
    from_logits = _value(weighted_ce_dice(labels, logits, "dynamic", from_logits=True))
    from_probs = _value(weighted_ce_dice(labels, probs, "dynamic"))
    assert from_logits == pytest.approx(from_probs, abs=1e-5)


def test_extreme_logits_give_finite_loss_and_gradient() -> None:
    """A confidently wrong pixel (logit gap 1e4) costs ~1e4, not log(1/eps) ~ 16, and its gradient lives."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the gradient is taken with tf.GradientTape")
    import tensorflow as tf

    labels = np.array([[[0, 1], [2, 255]]], dtype="int32")
    logits = np.zeros((1, 2, 2, 3), dtype="float32")
    logits[0, 0, 0] = [-1e4, 1e4, 0.0]  # wrong, extremely confident
    logits[0, 0, 1] = [0.0, 1e4, -1e4]  # right, extremely confident
    logits[0, 1, 0] = [3e4, -3e4, 0.0]  # wrong
    logits[0, 1, 1] = [1e30, -1e30, 0.0]  # ignored
    x = tf.Variable(logits)
    with tf.GradientTape() as tape:
        loss = weighted_ce_dice(labels, x, [1.0, 1.0, 1.0], from_logits=True)
    grad = tape.gradient(loss, x).numpy()
    assert np.isfinite(_value(loss)) and np.isfinite(grad).all()
    assert _value(loss) > 1e4  # (2e4 + 3e4) / 3 labelled pixels, plus Dice
    assert np.abs(grad[0, 0, 0]).sum() > 0.1  # the wrong pixel still pulls
    assert np.abs(grad[0, 1, 1]).sum() == 0.0  # the ignored pixel does not


def test_loss_class_from_logits_round_trips_its_config() -> None:
    loss = WeightedCEDiceLoss([1.0, 2.0, 1.0], from_logits=True)
    assert WeightedCEDiceLoss.from_config(loss.get_config()).from_logits is True
    losses, _ = branch_losses(["final"], branch_weights={"final": 1.0}, from_logits=True)
    assert losses["final"].from_logits

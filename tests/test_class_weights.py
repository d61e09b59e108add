"""Dynamic (Eq. 1) and static class weights."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hookseg.class_weights import (
    dynamic_class_weights,
    dynamic_weights_from_counts,
    labels_to_onehot,
    resolve_class_weights,
    static_class_weights,
)
from hookseg.errors import ConfigError


def _np(x) -> np.ndarray:
    return keras.ops.convert_to_numpy(x)


def test_eq1_worked_example_with_absent_class_and_ignore() -> None:
    # 6 pixels of class 0, 2 of class 1, none of class 2, 4 ignored.
    labels = np.array([[[0, 0, 0, 0], [0, 0, 1, 1], [255, 255, 255, 255]]])
    # Eq. 1: W = 1 - [6/8, 2/8] = [0.25, 0.75]; mean-1 over the 2 present classes: [0.5, 1.5]; absent 0.
    np.testing.assert_allclose(_np(dynamic_class_weights(labels, 3)), [0.5, 1.5, 0.0], atol=1e-6)


def test_weights_follow_eq1_ratios_and_have_mean_one() -> None:
    counts = np.random.default_rng(0).integers(1, 1000, 4).astype("float32")
    weights = _np(dynamic_weights_from_counts(counts))
    raw = 1 - counts / counts.sum()
    np.testing.assert_allclose(weights / weights.sum(), raw / raw.sum(), rtol=1e-5)
    assert weights.mean() == pytest.approx(1.0, rel=1e-5)


def test_balanced_batch_gives_unit_weights() -> None:
    labels = np.tile(np.arange(3), (2, 4, 2))
    np.testing.assert_allclose(_np(dynamic_class_weights(labels, 3)), np.ones(3), atol=1e-6)


def test_single_class_batch_still_trains() -> None:
    labels = np.full((1, 4, 4), 1)
    labels[0, 0] = 255
    np.testing.assert_allclose(_np(dynamic_class_weights(labels, 3)), [0.0, 1.0, 0.0])


def test_all_ignored_gives_zero_weights() -> None:
    np.testing.assert_array_equal(_np(dynamic_class_weights(np.full((1, 2, 2), 255), 3)), np.zeros(3))


def test_ignored_pixels_do_not_change_weights() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, (2, 8, 8))
    with_ignore = np.concatenate([labels, np.full((2, 8, 3), 255)], axis=2)
    expected = _np(dynamic_class_weights(labels, 3))
    np.testing.assert_allclose(_np(dynamic_class_weights(with_ignore, 3)), expected)


def test_onehot_masks_ignore_and_out_of_range_labels() -> None:
    onehot, valid = labels_to_onehot(np.array([[[0, 2, 255, 7]]], dtype="float32"), 3)
    np.testing.assert_array_equal(_np(valid), [[[1, 1, 0, 0]]])
    np.testing.assert_array_equal(_np(onehot)[0, 0], [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])


def test_static_weights_used_as_given_and_validated() -> None:
    weights = resolve_class_weights([1.0, 2.0, 0.5], np.array([5, 0, 1]), 3)
    np.testing.assert_allclose(_np(weights), [1, 2, 0.5])
    with pytest.raises(ConfigError, match=r"class_weights=\[1.0, 2.0\]"):
        static_class_weights([1.0, 2.0], 3)
    with pytest.raises(ConfigError, match="'balanced'"):
        resolve_class_weights("balanced", np.ones(3), 3)


def test_pixel_share_weights_equalise_each_class_contribution() -> None:
    from hookseg.class_weights import pixel_share_weights

    counts = [300.0, 600.0, 100.0]  # normal, tumour, other pixels
    w = np.array(pixel_share_weights(counts, power=1.0))
    assert w.mean() == pytest.approx(1.0)
    contribution = w * np.array(counts)
    np.testing.assert_allclose(contribution, contribution[0])  # every class weighs the same in the CE
    half = np.array(pixel_share_weights(counts, power=0.5))
    assert w[2] > half[2] > 1.0 > half[1] > w[1]  # halfway in log terms
    np.testing.assert_allclose(pixel_share_weights(counts, power=0.0), [1.0, 1.0, 1.0])


def test_pixel_share_weights_unseen_class_and_bad_input() -> None:
    from hookseg.class_weights import pixel_share_weights

    assert pixel_share_weights([0.0, 50.0, 50.0]) == pytest.approx([1.0, 1.0, 1.0])
    assert pixel_share_weights([0.0, 0.0]) == [1.0, 1.0]
    with pytest.raises(ConfigError, match="counts"):
        pixel_share_weights([-1.0, 2.0])

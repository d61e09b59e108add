"""Streaming confusion-matrix IoU against a direct per-class computation."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hookseg.metrics import (
    SegmentationIoU,
    confusion_matrix,
    dice_from_confusion,
    iou_from_confusion,
    iou_metrics,
    mean_iou_from_confusion,
)


def _batch(seed: int, num_classes: int = 3):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, (2, 9, 8))
    labels[rng.random(labels.shape) < 0.2] = 255
    probs = rng.random((2, 9, 8, num_classes)).astype("float32")
    return labels.astype("int32"), probs


def direct_iou(batches, num_classes: int) -> np.ndarray:
    """IoU per class from boolean masks of all batches pooled, ignore pixels dropped."""
    truth = np.concatenate([b[0].ravel() for b in batches])
    pred = np.concatenate([b[1].argmax(-1).ravel() for b in batches])
    keep = truth != 255
    truth, pred = truth[keep], pred[keep]
    out = []
    for c in range(num_classes):
        union = np.sum((truth == c) | (pred == c))
        out.append(np.sum((truth == c) & (pred == c)) / union if union else np.nan)
    return np.array(out)


def test_streaming_metric_matches_direct_computation() -> None:
    batches = [_batch(1), _batch(2)]
    metric = SegmentationIoU(3)
    per_class = [SegmentationIoU(3, class_id=c) for c in range(3)]
    for labels, probs in batches:
        for m in [metric, *per_class]:
            m.update_state(labels.astype("float32"), probs)
    expected = direct_iou(batches, 3)
    assert float(metric.result()) == pytest.approx(np.nanmean(expected), rel=1e-6)
    for c, m in enumerate(per_class):
        assert float(m.result()) == pytest.approx(expected[c], rel=1e-6)
    np.testing.assert_allclose(iou_from_confusion(metric.confusion_matrix()), expected)
    assert metric.confusion_matrix().sum() == sum(np.sum(b[0] != 255) for b in batches)
    metric.reset_state()
    assert metric.confusion_matrix().sum() == 0


def test_confusion_matrix_rows_are_truth() -> None:
    labels = np.array([[[0, 1, 1, 255]]])
    preds = np.array([[[1, 1, 0, 2]]])
    cm = keras.ops.convert_to_numpy(confusion_matrix(labels, preds, 3))
    expected = np.zeros((3, 3), int)
    for t, p in [(0, 1), (1, 1), (1, 0)]:
        expected[t, p] += 1
    np.testing.assert_array_equal(cm, expected)


def test_absent_class_is_nan_and_skipped_in_mean() -> None:
    cm = np.array([[3, 1, 0], [2, 4, 0], [0, 0, 0]])
    iou = iou_from_confusion(cm)
    assert np.isnan(iou[2])
    assert mean_iou_from_confusion(cm) == pytest.approx(np.mean([3 / 6, 4 / 7]))
    np.testing.assert_allclose(dice_from_confusion(cm)[:2], [6 / 9, 8 / 11])
    assert mean_iou_from_confusion(np.zeros((2, 2))) == 0.0


def test_iou_metrics_names_and_config() -> None:
    metrics = iou_metrics(3, ["tumour", "normal", "other"])
    assert [m.name for m in metrics] == ["mean_iou", "iou_tumour", "iou_normal", "iou_other"]
    clone = SegmentationIoU.from_config(metrics[2].get_config())
    assert (clone.num_classes, clone.class_id, clone.name) == (3, 1, "iou_normal")

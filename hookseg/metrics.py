"""Streaming confusion matrix -> per-class IoU / Dice and mean IoU, with the ignore label excluded.

:class:`SegmentationIoU` is a ``keras.metrics.Metric`` (usable in ``compile``); it accumulates the
confusion matrix across batches and reports mean IoU, or one class's IoU with ``class_id``. The
NumPy helpers turn any confusion matrix into IoU/Dice for the evaluation tables.

Counting uses one-hot products rather than ``bincount``, which JAX cannot trace. Per batch the
counts are exact up to 2**31 pixels per cell; the running matrix is int64 (int32 on JAX without x64).
"""

from __future__ import annotations

import logging

import keras
import numpy as np
from keras import ops

from hookseg.annotations.classes import IGNORE_ID
from hookseg.class_weights import is_distribution, labels_to_onehot

logger = logging.getLogger(__name__)


def confusion_matrix(y_true, y_pred, num_classes: int, ignore_label: int = IGNORE_ID):
    """(C,C) int32 counts for one batch: rows = true class, columns = predicted (argmax) class.

    ``y_pred`` is (B,H,W,C) probabilities or (B,H,W) integer predictions.
    """
    truth, valid = labels_to_onehot(y_true, num_classes, ignore_label)
    if is_distribution(y_true, num_classes):  # a soft target counts as its most likely class
        top = ops.one_hot(ops.argmax(truth, axis=-1), num_classes, dtype="float32")
        truth = top * ops.expand_dims(valid, -1)
    y_pred = ops.convert_to_tensor(y_pred)
    pred_labels = ops.argmax(y_pred, axis=-1) if len(y_pred.shape) == len(truth.shape) else y_pred
    pred = ops.one_hot(ops.cast(pred_labels, "int32"), num_classes, dtype="int32")
    truth = ops.cast(ops.reshape(truth, (-1, num_classes)), "int32")
    pred = ops.reshape(pred, (-1, num_classes))
    return ops.sum(ops.expand_dims(truth, 2) * ops.expand_dims(pred, 1), axis=0)


def iou_from_confusion(cm: np.ndarray) -> np.ndarray:
    """Per-class IoU = TP / (TP + FP + FN); NaN for a class absent from both truth and prediction."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    union = cm.sum(axis=0) + cm.sum(axis=1) - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, tp / union, np.nan)


def dice_from_confusion(cm: np.ndarray) -> np.ndarray:
    """Per-class Dice (F1) = 2 TP / (2 TP + FP + FN); NaN where undefined."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    denom = cm.sum(axis=0) + cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, 2 * tp / denom, np.nan)


def mean_iou_from_confusion(cm: np.ndarray) -> float:
    """Mean IoU over classes that occur in truth or prediction (NaN-skipping), 0.0 if none."""
    iou = iou_from_confusion(cm)
    return float(np.nanmean(iou)) if np.isfinite(iou).any() else 0.0


@keras.saving.register_keras_serializable(package="hookseg")
class SegmentationIoU(keras.metrics.Metric):
    """Streaming IoU: mean over present classes, or the IoU of ``class_id`` when given."""

    def __init__(
        self,
        num_classes: int,
        class_id: int | None = None,
        ignore_label: int = IGNORE_ID,
        name: str | None = None,
        **kwargs,
    ) -> None:
        if name is None:
            name = "mean_iou" if class_id is None else f"iou_{class_id}"
        super().__init__(name=name, **kwargs)
        self.num_classes = int(num_classes)
        self.class_id = None if class_id is None else int(class_id)
        self.ignore_label = int(ignore_label)
        # int64 holds an epoch of paper-scale pixels (> 2^31); JAX without x64 has no int64 variables, so
        # there the counter is int32 (enough for ~8000 512x512 crops per epoch).
        counter = "int32" if keras.backend.backend() == "jax" else "int64"
        self.total_cm = self.add_variable(
            shape=(self.num_classes, self.num_classes), initializer="zeros", dtype=counter, name="total_cm"
        )

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        cm = confusion_matrix(y_true, y_pred, self.num_classes, self.ignore_label)
        self.total_cm.assign(self.total_cm + ops.cast(cm, self.total_cm.dtype))

    def result(self):
        cm = ops.cast(self.total_cm, "float32")
        tp = ops.diagonal(cm)
        union = ops.sum(cm, axis=0) + ops.sum(cm, axis=1) - tp
        iou = ops.where(union > 0, tp / ops.maximum(union, 1.0), 0.0)
        if self.class_id is not None:
            return iou[self.class_id]
        present = ops.cast(union > 0, "float32")
        return ops.sum(iou) / ops.maximum(ops.sum(present), 1.0)

    def reset_state(self) -> None:
        self.total_cm.assign(ops.zeros(self.total_cm.shape, dtype=self.total_cm.dtype))

    def confusion_matrix(self) -> np.ndarray:
        """The accumulated (C,C) matrix as NumPy, rows = truth."""
        return np.asarray(keras.ops.convert_to_numpy(self.total_cm))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "class_id": self.class_id,
            "ignore_label": self.ignore_label,
        }


def iou_metrics(
    num_classes: int, class_names: list[str] | None = None, ignore_label: int = IGNORE_ID,
) -> list[SegmentationIoU]:
    """Mean IoU plus one IoU metric per class (named ``iou_<class name>``) for ``compile``."""
    names = class_names or [str(i) for i in range(num_classes)]
    return [SegmentationIoU(num_classes, ignore_label=ignore_label)] + [
        SegmentationIoU(num_classes, class_id=i, name=f"iou_{names[i]}", ignore_label=ignore_label)
        for i in range(num_classes)
    ]

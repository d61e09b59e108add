"""Class weights for the loss: dynamic per-batch weights (paper Eq. 1) and static weights.

Eq. 1: ``W_c = 1 - n_c / sum_k n_k``, with ``n_c`` the labelled pixels of class ``c`` in the batch
(ignore label excluded). Decisions, where the paper is silent (docs/model.md):

* A class with no labelled pixel in the batch gets weight 0: its cross-entropy term is zero anyway
  and its Dice is undefined.
* The weights of the classes present are rescaled to **mean 1** (sum = number of classes present).
  A batch with balanced classes then gets all-ones weights, i.e. exactly the unweighted loss, so the
  loss scale and learning rate stay those of static unit weights when training switches between
  static and dynamic phases (Table 8). Normalising to sum 1 would shrink the loss by the number of
  classes and make it depend on how many classes a batch holds.
* A batch holding a single class gives raw weight 0 to it (``1 - 1``); it gets weight 1 instead, so
  such a batch still trains.

Pure ``keras.ops`` functions: they run inside the loss on any backend. :func:`pixel_share_weights` (NumPy)
turns pixel counts measured before training into static weights (``class_weights: pixel``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from keras import ops

from hookseg.annotations.classes import IGNORE_ID
from hookseg.errors import ConfigError

logger = logging.getLogger(__name__)



def is_distribution(y_true, num_classes: int) -> bool:
    """True for (B,H,W,C) soft targets (a distribution per pixel), False for (B,H,W[,1]) class ids."""
    shape = ops.convert_to_tensor(y_true).shape
    return len(shape) == 4 and shape[-1] == num_classes and num_classes > 1


def labels_to_onehot(y_true, num_classes: int, ignore_label: int = IGNORE_ID):
    """(B,H,W) integer labels -> (one-hot (B,H,W,C) float32, valid mask (B,H,W) float32).

    Pixels equal to ``ignore_label`` or outside [0, C) are invalid and get an all-zero one-hot row.
    Invalid labels are replaced by 0 before ``one_hot``, because torch's one_hot raises on them.
    (B,H,W,C) soft targets (:func:`is_distribution`) pass through as they are; an all-zero row is invalid.
    Which form a batch has is static (its rank), so a traced step takes one branch.
    """
    y = ops.convert_to_tensor(y_true)
    if is_distribution(y, num_classes):
        y = ops.cast(y, "float32")
        return y, ops.cast(ops.sum(y, axis=-1) > 0, "float32")
    if len(y.shape) == 4 and y.shape[-1] == 1:
        y = ops.squeeze(y, axis=-1)
    y = ops.cast(ops.round(ops.cast(y, "float32")), "int32")  # Keras hands labels over as floats
    valid = ops.logical_and(ops.logical_and(y >= 0, y < num_classes), ops.not_equal(y, ignore_label))
    safe = ops.where(valid, y, ops.zeros_like(y))
    valid = ops.cast(valid, "float32")
    onehot = ops.one_hot(safe, num_classes, dtype="float32") * ops.expand_dims(valid, -1)
    return onehot, valid


def pixel_counts(onehot):
    """Labelled pixels per class over the whole batch: (C,) float32."""
    return ops.sum(ops.reshape(onehot, (-1, onehot.shape[-1])), axis=0)


def dynamic_weights_from_counts(counts):
    """Eq. 1 on per-class counts, mean-1 over the classes present, 0 for absent classes."""
    counts = ops.cast(counts, "float32")
    present = ops.cast(counts > 0, "float32")
    total = ops.maximum(ops.sum(counts), 1.0)
    raw = (1.0 - counts / total) * present
    raw_sum = ops.sum(raw)
    scaled = raw * ops.sum(present) / ops.maximum(raw_sum, 1e-12)
    return ops.where(raw_sum > 0, scaled, present)


def dynamic_class_weights(y_true, num_classes: int, ignore_label: int = IGNORE_ID):
    """Dynamic per-batch class weights (paper Eq. 1) from integer labels: (C,) float32."""
    onehot, _ = labels_to_onehot(y_true, num_classes, ignore_label)
    return dynamic_weights_from_counts(pixel_counts(onehot))


def static_class_weights(weights: Sequence[float], num_classes: int):
    """Validated static weights as a (C,) float32 tensor, used as given (no normalisation)."""
    values = [float(w) for w in weights]
    if len(values) != num_classes or any(w < 0 for w in values):
        msg = (
            f"Invalid class weights. Received: class_weights={list(weights)}. Expected {num_classes} "
            "non-negative numbers (one per class) or 'dynamic'."
        )
        raise ConfigError(msg)
    return ops.convert_to_tensor(values, dtype="float32")


def check_class_weights(class_weights: str | Sequence[float]) -> str | tuple[float, ...]:
    """Normalise the user spec: the string 'dynamic' or a tuple of floats (length checked later)."""
    if isinstance(class_weights, str):
        if class_weights != "dynamic":
            msg = (
                f"Invalid class weights. Received: class_weights={class_weights!r}. "
                "Expected 'dynamic' or a list of per-class weights."
            )
            raise ConfigError(msg)
        return class_weights
    try:
        return tuple(float(w) for w in class_weights)
    except (TypeError, ValueError) as err:
        msg = (
            f"Invalid class weights. Received: class_weights={class_weights!r}. "
            "Expected 'dynamic' or a list of numbers."
        )
        raise ConfigError(msg) from err


def resolve_class_weights(class_weights: str | Sequence[float], counts, num_classes: int):
    """(C,) weights for one batch: Eq. 1 from ``counts`` when 'dynamic', else the static list."""
    spec = check_class_weights(class_weights)
    if spec == "dynamic":
        return dynamic_weights_from_counts(counts)
    return static_class_weights(spec, num_classes)


PIXEL = "pixel"
"""``class_weights: pixel``: static weights from the pixel shares of sampled training batches."""


def pixel_share_weights(counts: Sequence[float], power: float = 1.0) -> list[float]:
    """Static weights that balance classes by labelled pixels: ``w_c ~ (n_c / sum n) ** -power``, mean 1
    over the classes seen; a class never seen gets 1 (nothing to balance it against).

    Batches are balanced by patch centre only (2:1:1), yet a tumour-centred patch is mostly tumour and a
    normal-centred one holds tumour too, so pixel shares stay skewed; Eq. 1's ``1 - share`` corrects that
    only weakly (shares 0.6/0.3/0.1 give 0.6/1.05/1.35). ``power=1`` makes every class contribute equally to
    the cross-entropy, ``power=0.5`` halfway (in log terms).
    """
    n = np.asarray(counts, dtype=np.float64)
    if n.ndim != 1 or (n < 0).any() or power < 0:
        msg = (f"Invalid pixel counts or power. Received: counts={n.tolist()}, power={power}. "
               "Expected a list of counts >= 0 and power >= 0.")
        raise ConfigError(msg)
    seen = n > 0
    if not seen.any():
        return [1.0] * len(n)
    raw = np.zeros_like(n)
    raw[seen] = (n[seen] / n.sum()) ** -power  # an unseen class has no share to invert
    raw *= seen.sum() / raw.sum()
    return [float(w) if s else 1.0 for w, s in zip(raw, seen, strict=True)]

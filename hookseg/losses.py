"""Weighted categorical cross-entropy + weighted soft Dice with an ignore label (paper Eq. 5-7).

Labels are integer maps (B,H,W) with 255 = not annotated; predictions are softmax probabilities
(B,H,W,C), or logits with ``from_logits=True`` (what training uses: :func:`hookseg.train.logits.logits_view`).
Pixels with the ignore label are masked out of ``y_true`` and ``y_pred`` before any reduction. Per class
``c`` over the whole batch (N = labelled pixels):

    CE_c   = -(1/N) * sum_{i in class c} log p_ic  (sum_c CE_c = plain mean CE)
    Dice_c = 1 - 2 * sum_i y_ic p_ic / max(sum_i y_ic + sum_i p_ic, eps)  (only if class c is labelled)
    loss   = sum_c W_c * (ce_weight * CE_c + dice_weight * Dice_c)

``log p`` is ``log_softmax(logits)`` from logits: finite for any logit and with the full gradient for a
confidently wrong pixel. From probabilities it is ``log(clip(p, eps, 1-eps))``, which has zero gradient
once the true class's probability falls below eps (kept for models that only give probabilities).
``W`` is Eq. 1's dynamic per-batch weights or a static list (:mod:`hookseg.class_weights`). The
cross-entropy is written with ``keras.ops`` on probabilities: Keras' stock sparse CE on (B,H,W,C)
probabilities crashes in backward on torch (STACK.md trap 7). Total loss over output branches (Eq. 7)
is Keras' multi-output ``loss={...}`` with ``loss_weights={...}``: :func:`branch_losses` builds both,
so Keras also logs each branch's loss.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

import keras
from keras import ops

from hookseg.annotations.classes import IGNORE_ID
from hookseg.class_weights import (
    check_class_weights,
    labels_to_onehot,
    pixel_counts,
    resolve_class_weights,
)
from hookseg.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_BRANCH_WEIGHTS: dict[str, float] = {"final": 1.0, "context": 0.5}
"""Eq. 7's static branch weights W_s: the fused output counts fully, the context branch's deep
supervision half (the paper gives no values)."""


def _prepare(y_true, y_pred, ignore_label: int, from_logits: bool, epsilon: float):
    """Masked one-hot, masked probabilities, log-probabilities, and per-class labelled-pixel counts."""
    y_pred = ops.cast(ops.convert_to_tensor(y_pred), "float32")
    num_classes = int(y_pred.shape[-1])
    onehot, valid = labels_to_onehot(y_true, num_classes, ignore_label)
    if from_logits:
        log_probs = ops.log_softmax(y_pred, axis=-1)
        y_pred = ops.exp(log_probs)
    else:
        log_probs = ops.log(ops.clip(y_pred, epsilon, 1.0 - epsilon))
    probs = y_pred * ops.expand_dims(valid, -1)
    return onehot, probs, log_probs, pixel_counts(onehot), num_classes


def _per_class_ce(onehot, log_probs, counts):
    """-(1/N) sum over class-c pixels of log p_c; ignored pixels have all-zero one-hot rows."""
    flat_y = ops.reshape(onehot, (-1, onehot.shape[-1]))
    flat_logp = ops.reshape(log_probs, (-1, log_probs.shape[-1]))
    nll = -ops.sum(flat_y * flat_logp, axis=0)
    return nll / ops.maximum(ops.sum(counts), 1.0)


def _per_class_dice(onehot, probs, counts, epsilon: float):
    """Soft Dice loss per class over the batch; 0 for classes without labelled pixels."""
    flat_y = ops.reshape(onehot, (-1, onehot.shape[-1]))
    flat_p = ops.reshape(probs, (-1, probs.shape[-1]))
    intersection = ops.sum(flat_y * flat_p, axis=0)
    cardinality = ops.sum(flat_y, axis=0) + ops.sum(flat_p, axis=0)
    dice = 1.0 - 2.0 * intersection / ops.maximum(cardinality, epsilon)
    return dice * ops.cast(counts > 0, "float32")


def weighted_ce_dice(
    y_true,
    y_pred,
    class_weights: str | Sequence[float] = "dynamic",
    ignore_label: int = IGNORE_ID,
    ce_weight: float = 1.0,
    dice_weight: float = 1.0,
    epsilon: float = 1e-7,
    from_logits: bool = False,
):
    """Scalar WCE + WDL for one output branch (0 for a batch with no labelled pixel)."""
    onehot, probs, log_probs, counts, num_classes = _prepare(
        y_true, y_pred, ignore_label, from_logits, epsilon
    )
    weights = resolve_class_weights(class_weights, counts, num_classes)
    total = 0.0
    if ce_weight:
        total = total + ce_weight * _per_class_ce(onehot, log_probs, counts)
    if dice_weight:
        total = total + dice_weight * _per_class_dice(onehot, probs, counts, epsilon)
    return ops.sum(weights * total)


def weighted_categorical_crossentropy(y_true, y_pred, class_weights="dynamic", ignore_label=IGNORE_ID):
    """WCE alone: ``sum_c W_c * CE_c`` (see the module docstring)."""
    return weighted_ce_dice(y_true, y_pred, class_weights, ignore_label, ce_weight=1.0, dice_weight=0.0)


def weighted_dice_loss(y_true, y_pred, class_weights="dynamic", ignore_label=IGNORE_ID):
    """WDL alone: ``sum_c W_c * Dice_c`` over the classes labelled in the batch."""
    return weighted_ce_dice(y_true, y_pred, class_weights, ignore_label, ce_weight=0.0, dice_weight=1.0)


@keras.saving.register_keras_serializable(package="hookseg")
class WeightedCEDiceLoss(keras.losses.Loss):
    """Loss class around :func:`weighted_ce_dice`; returns one scalar per batch.

    The weights are per batch (Eq. 1), so ``sample_weight`` is not meaningful here and not supported.
    """

    def __init__(
        self,
        class_weights: str | Sequence[float] = "dynamic",
        ignore_label: int = IGNORE_ID,
        ce_weight: float = 1.0,
        dice_weight: float = 1.0,
        epsilon: float = 1e-7,
        from_logits: bool = False,
        name: str = "weighted_ce_dice",
        **kwargs,
    ) -> None:
        super().__init__(name=name, **kwargs)
        spec = check_class_weights(class_weights)
        self.class_weights = spec if isinstance(spec, str) else list(spec)
        self.ignore_label = int(ignore_label)
        self.ce_weight = float(ce_weight)
        self.dice_weight = float(dice_weight)
        self.epsilon = float(epsilon)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        return weighted_ce_dice(
            y_true,
            y_pred,
            self.class_weights,
            self.ignore_label,
            self.ce_weight,
            self.dice_weight,
            self.epsilon,
            self.from_logits,
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "class_weights": self.class_weights,
            "ignore_label": self.ignore_label,
            "ce_weight": self.ce_weight,
            "dice_weight": self.dice_weight,
            "epsilon": self.epsilon,
            "from_logits": self.from_logits,
        }


def branch_losses(
    output_names: Iterable[str],
    class_weights: str | Sequence[float] = "dynamic",
    branch_weights: Mapping[str, float] | None = None,
    ignore_label: int = IGNORE_ID,
    from_logits: bool = False,
) -> tuple[dict[str, WeightedCEDiceLoss], dict[str, float]]:
    """``(loss, loss_weights)`` dicts for ``model.compile``: Eq. 7 as Keras multi-output losses.

    ``output_names`` are the model's output keys (``["final"]`` or ``["final", "context"]``);
    ``branch_weights`` (W_s) default to :data:`DEFAULT_BRANCH_WEIGHTS`; ``from_logits`` says the outputs
    are logits.
    """
    names = list(output_names)
    weights = dict(DEFAULT_BRANCH_WEIGHTS if branch_weights is None else branch_weights)
    missing = [n for n in names if n not in weights]
    if missing:
        msg = (
            f"Missing branch loss weights. Received: branch_weights={weights}. "
            f"Expected a weight for every output: {names}."
        )
        raise ConfigError(msg)
    losses = {n: WeightedCEDiceLoss(class_weights, ignore_label, from_logits=from_logits, name=f"{n}_loss")
              for n in names}
    return losses, {n: float(weights[n]) for n in names}

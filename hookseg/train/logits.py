"""A logits view of a segmentation model: the same layers and weights, outputs taken before the softmax.

Saved models keep their softmax outputs (prediction, pseudo-labelling and evaluation read probabilities).
Training fits this view instead, so the loss takes ``log_softmax`` of logits (:mod:`hookseg.losses`),
finite and with the full gradient where clipped probabilities would give none. Both models share every
variable: fitting the view trains the model that is saved.
"""

from __future__ import annotations

import logging

import keras

log = logging.getLogger(__name__)


def _producer(model: keras.Model, tensor) -> keras.layers.Layer | None:
    """The top-level layer whose output is ``tensor`` (the model's own output tensors)."""
    return next((layer for layer in model.layers if layer.output is tensor), None)


def _is_softmax(layer: keras.layers.Layer | None) -> bool:
    if not isinstance(layer, keras.layers.Activation):
        return False
    activation = layer.activation
    return getattr(activation, "__name__", "") == "softmax"


def logits_view(model: keras.Model) -> keras.Model | None:
    """``model`` with each softmax output replaced by that softmax's input, or None if any output is not
    a softmax Activation (the loss then falls back to probabilities). Output keys are kept."""
    outputs = model.output if isinstance(model.output, dict) else None
    if outputs is None:
        return None
    logits = {}
    for key, tensor in outputs.items():
        layer = _producer(model, tensor)
        if not _is_softmax(layer):
            log.warning("output %r is not a softmax layer: the loss takes clipped probabilities", key)
            return None
        logits[key] = layer.input
    return keras.Model(model.input, logits, name=f"{model.name}_logits")

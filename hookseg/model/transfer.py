"""Warm start across architectures: copy the weights of layers two models share, by scope, name and shape.

The base U-Net and the m-UNet build their target encoder from the same keras.applications EfficientNet
(``target_encoder`` in the U-Net, ``target_encoder_head`` + ``target_encoder_tail`` in the m-UNet), so its
layers carry the same names in both. A layer is keyed by (scope, name): the scope is the first of
``scopes`` that the top-level layer's name equals or starts with (``target_encoder_head`` ->
``target_encoder``); layers inside a nested model take that model's scope. Keras numbers the
auto-named layers of each build (``rescaling_2``, ``normalization_4``), so a trailing ``_<n>`` is
dropped from inner names; a key that is then ambiguous in either model is left alone. A layer is
copied only when every one of its weights has the same shape in both: BatchNorm moving statistics
travel with it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import keras
import numpy as np

log = logging.getLogger(__name__)

ENCODER_SCOPES: tuple[str, ...] = ("target_encoder",)
"""What phase 1 takes from the base by default: the target branch's EfficientNet encoder."""

_NUMBERED = re.compile(r"_\d+$")


@dataclass(frozen=True)
class TransferReport:
    """What a warm start copied: layers, weight tensors and scalar parameters, and the source's total."""

    layers: int
    tensors: int
    params: int
    source_tensors: int  # weight tensors in the source's scopes, copied or not

    def describe(self) -> str:
        return (f"copied {self.tensors} of {self.source_tensors} weight tensors ({self.params:,} parameters, "
                f"{self.layers} layers)")


def _scope(name: str, scopes: Sequence[str]) -> str | None:
    return next((s for s in scopes if name == s or name.startswith(f"{s}_")), None)


def _walk(model: keras.Model, scope: str) -> Iterator[tuple[tuple[str, str], keras.layers.Layer]]:
    """Every layer inside a nested model, keyed by the outer scope and its name without Keras' numbering."""
    for inner in model.layers:
        if isinstance(inner, keras.Model):
            yield from _walk(inner, scope)
        else:
            yield (scope, _NUMBERED.sub("", inner.name)), inner


def scoped_layers(model: keras.Model, scopes: Sequence[str]) -> dict[tuple[str, str], keras.layers.Layer]:
    """Weighted layers under ``scopes`` keyed by (scope, name); keys seen twice are dropped (ambiguous)."""
    found: dict[tuple[str, str], list[keras.layers.Layer]] = {}
    for top in model.layers:
        scope = _scope(top.name, scopes)
        if scope is None:
            continue
        items = _walk(top, scope) if isinstance(top, keras.Model) else [((scope, top.name), top)]
        for key, layer in items:
            if layer.weights:
                found.setdefault(key, []).append(layer)
    ambiguous = sorted(k for k, v in found.items() if len(v) > 1)
    if ambiguous:
        log.warning("%d layer names occur twice under %s and are not matched, e.g. %s",
                    len(ambiguous), list(scopes), ambiguous[0])
    return {k: v[0] for k, v in found.items() if len(v) == 1}


def transfer_weights(
    target: keras.Model, source: keras.Model, scopes: Sequence[str] = ENCODER_SCOPES,
) -> TransferReport:
    """Copy into ``target`` the weights of every ``source`` layer with the same (scope, name) and shapes."""
    theirs = scoped_layers(source, scopes)
    ours = scoped_layers(target, scopes)
    layers = tensors = params = 0
    for key, src in theirs.items():
        dst = ours.get(key)
        if dst is None:
            continue
        values = src.get_weights()
        if [tuple(w.shape) for w in dst.weights] != [v.shape for v in values]:
            continue
        dst.set_weights(values)
        layers += 1
        tensors += len(values)
        params += int(sum(np.prod(v.shape) for v in values))
    report = TransferReport(layers, tensors, params, sum(len(layer.weights) for layer in theirs.values()))
    log.info("warm start from %s into %s: %s", source.name, target.name, report.describe())
    return report

"""Teacher test-time augmentation: the labelling model's probabilities averaged over flipped inputs.

A pixel the model calls tumour only in one orientation is not a pixel to teach as certain. ``FlipTTA`` wraps
a model so that ``predict_probabilities`` sees one model: every input of a batch (target and context, both
centred on the same point) is flipped alike, each output is flipped back, and the outputs are averaged.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

TTA_CHOICES = (0, 2, 4)  # none; identity + horizontal flip; identity + horizontal, vertical and both
_FLIPS: dict[int, tuple[tuple[int, ...], ...]] = {
    0: ((),),
    2: ((), (2,)),
    4: ((), (2,), (1,), (1, 2)),
}  # axes of (N, H, W, C) arrays to flip


def _final(output: Any) -> np.ndarray:
    final = output["final"] if isinstance(output, dict) else output
    final = final[0] if isinstance(final, list) else final
    return np.asarray(keras.ops.convert_to_numpy(final), dtype=np.float32)


class FlipTTA:
    """Quacks like the model for ``predict_on_batch``; returns ``{"final": mean of unflipped outputs}``."""

    def __init__(self, model: keras.Model, tta: int) -> None:
        if tta not in _FLIPS:
            msg = f"tta: expected one of {list(TTA_CHOICES)}. Received: {tta!r}"
            raise ValueError(msg)
        self.model = model
        self.flips = _FLIPS[tta]

    def predict_on_batch(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        total = None
        for axes in self.flips:
            flipped = {k: np.flip(v, axes) if axes else v for k, v in batch.items()}
            out = _final(self.model.predict_on_batch(flipped))
            out = np.flip(out, axes) if axes else out
            total = out if total is None else total + out
        return {"final": total / len(self.flips)}


def with_tta(model: keras.Model, tta: int) -> Any:
    """The model itself for ``tta == 0``, else a ``FlipTTA`` around it."""
    return model if tta == 0 else FlipTTA(model, tta)

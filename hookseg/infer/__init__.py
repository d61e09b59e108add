"""Whole-slide prediction: streaming tiles, ramp blending, post-processing, QuPath-ready outputs.

Names load on first use: ``predict_probabilities`` and ``predict_slide`` import Keras, while ``InferParams``
and ``SlideOutputs`` do not, so scoring predictions that exist never pays for a backend.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "InferParams": "hookseg.infer.params",
    "SlideOutputs": "hookseg.infer.outputs",
    "ProbabilityMap": "hookseg.infer.predict",
    "predict_probabilities": "hookseg.infer.predict",
    "predict_slide": "hookseg.infer.slide",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)

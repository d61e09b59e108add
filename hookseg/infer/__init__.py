"""Whole-slide prediction: streaming tiles, ramp blending, post-processing, QuPath-ready outputs.

Names load on first use, and none imports Keras: the model is passed in (a Keras model, or an ONNX export's
``OnnxModel``), so scoring predictions that exist or predicting with an export never pays for a backend.
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

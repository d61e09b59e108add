"""Whole-slide prediction: streaming tiles, ramp blending, post-processing, QuPath-ready outputs."""

from hookseg.infer.params import InferParams
from hookseg.infer.predict import ProbabilityMap, predict_probabilities
from hookseg.infer.slide import SlideOutputs, predict_slide

__all__ = ["InferParams", "ProbabilityMap", "SlideOutputs", "predict_probabilities", "predict_slide"]

"""Evaluation per class x stain / scanner / source, with bootstrap CIs and threshold curves."""

from hookseg.evaluate.counts import Counts
from hookseg.evaluate.run import evaluate
from hookseg.evaluate.scores import auc, class_scores, threshold_sweep

__all__ = ["Counts", "auc", "class_scores", "evaluate", "threshold_sweep"]

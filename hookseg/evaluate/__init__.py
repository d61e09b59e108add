"""Evaluation per class x stain / scanner / source, with bootstrap CIs and threshold curves.

The package itself is NumPy-only (counts and scores); ``hookseg.evaluate.run.evaluate`` (prediction, slides)
is imported where it runs, so ``hookseg report`` depends on this folder and nothing heavier.
"""

from hookseg.evaluate.counts import Counts
from hookseg.evaluate.scores import auc, class_scores, threshold_sweep

__all__ = ["Counts", "auc", "class_scores", "threshold_sweep"]

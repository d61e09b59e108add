"""``PatchDataset``: balanced batches of paired, centre-aligned fields of view read straight from slides.

Each sample is a high-resolution target view (e.g. 512 px at 0.5 mpp) and a low-resolution context view
(512 px at 2.0 mpp) around the same level-0 centre, with the label patch of each. The dataset holds only
paths, the index and a seed, so Keras can ship it to worker processes; readers open lazily in each process.
Batch ``i`` of epoch ``e`` is drawn from ``np.random.default_rng([seed, e, i])``: the same seed gives the same
batches, on any number of workers, in any order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import keras
import numpy as np
import pandas as pd

from hookseg.sampling.balance import BalancedSampler
from hookseg.sampling.labels import open_labels, read_labels_at_center
from hookseg.sampling.views import FieldOfView, SlideSource
from hookseg.slides import open_slide
from hookseg.slides.base import SlideReader

# (target, target_labels, context, context_labels, rng) -> the same four arrays, augmented
Augment = Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


class SeededBatches(keras.utils.PyDataset):
    """A fixed number of batches per epoch, batch ``b`` of epoch ``e`` drawn from ``rng([seed, e, b])``: a
    resumed epoch (``set_epoch``) draws the interrupted run's batches. Open slide readers are per process."""

    steps: int
    epoch: int
    _readers: dict

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_readers"] = {}  # file handles do not cross processes; each worker opens its own
        return state

    @property
    def num_batches(self) -> int:
        return self.steps

    def __len__(self) -> int:
        return self.steps

    def on_epoch_end(self) -> None:
        self.epoch += 1

    def set_epoch(self, epoch: int) -> None:
        """Resume support: batches of a resumed epoch equal those of the interrupted run."""
        self.epoch = epoch


class PatchDataset(SeededBatches):
    def __init__(
        self,
        index: pd.DataFrame,
        sources: Mapping[str, SlideSource],
        fov: FieldOfView,
        *,
        batch_size: int,
        steps: int,
        ratios: Mapping[int, float] | None = None,
        seed: int = 0,
        augment: Augment | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        missing = sorted(set(index["slide_id"]) - set(sources))
        if missing:
            msg = f"the patch index names slides with no source: {missing[:5]}"
            raise ValueError(msg)
        self.index = index.reset_index(drop=True)
        self.sources = dict(sources)
        self.fov = fov
        self.batch_size = batch_size
        self.steps = steps
        self.seed = seed
        self.epoch = 0
        self.augment = augment
        self.sampler = BalancedSampler(self.index, ratios or {1: 2, 0: 1, 2: 1})
        self._readers: dict[str, tuple[SlideReader, SlideReader]] = {}

    def __getitem__(self, batch: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        rng = np.random.default_rng([self.seed, self.epoch, batch])
        rows = self.sampler.draw(self.batch_size, rng)
        samples = [self.read_sample(self.index.iloc[int(r)], rng) for r in rows]
        x = {"target": np.stack([s[0] for s in samples]).astype(np.float32)}
        y = {"final": np.stack([s[1] for s in samples]).astype(np.int32)}
        if self.fov.context_mpp is not None:
            x["context"] = np.stack([s[2] for s in samples]).astype(np.float32)
            y["context"] = np.stack([s[3] for s in samples]).astype(np.int32)
        return x, y

    def read_sample(self, row: pd.Series, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """Target view, its labels, context view, its labels (context arrays empty without context)."""
        slide, labels = self._open(str(row["slide_id"]))
        center = (float(row["x"]), float(row["y"]))
        fov = self.fov
        target = slide.read_at_center(center, (fov.size, fov.size), fov.mpp)
        target_labels = read_labels_at_center(labels, center, (fov.size, fov.size), fov.mpp, slide.mpp)
        if fov.context_mpp is None:
            context = np.zeros((0, 0, 3), np.uint8)
            context_labels = np.zeros((0, 0), np.uint8)
        else:
            size = (fov.context_size, fov.context_size)
            context = slide.read_at_center(center, size, fov.context_mpp)
            context_labels = read_labels_at_center(labels, center, size, fov.context_mpp, slide.mpp)
        if self.augment is not None:
            return self.augment(target, target_labels, context, context_labels, rng=rng)
        return target, target_labels, context, context_labels

    def _open(self, slide_id: str) -> tuple[SlideReader, SlideReader]:
        if slide_id not in self._readers:
            source = self.sources[slide_id]
            self._readers[slide_id] = (open_slide(source.path, mpp=source.mpp), open_labels(source.labels))
        return self._readers[slide_id]

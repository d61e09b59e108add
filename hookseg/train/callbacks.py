"""Small callbacks, one concern each."""

from __future__ import annotations

import keras

from hookseg.sampling import PatchDataset


class SyncDatasetEpoch(keras.callbacks.Callback):
    """Keep the dataset's epoch equal to the trainer's, also after a resume starts at epoch k > 0.

    Batches are seeded by (seed, epoch, index), so a resumed epoch sees the batches the interrupted one did.
    """

    def __init__(self, dataset: PatchDataset) -> None:
        super().__init__()
        self.dataset = dataset

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.dataset.set_epoch(epoch)

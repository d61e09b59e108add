"""The augmentation a stage's sampler applies: its presets built for its fields of view (or none)."""

from __future__ import annotations

from collections.abc import Callable

from hookseg.train.config import StageConfig


def build_augment(config: StageConfig) -> Callable | None:
    presets = list(config.train.augment)
    if not presets:
        return None
    from hookseg.augment import PairedAugment  # noqa: PLC0415 - albumentations only when augmenting

    fov = config.fov
    ratio = (fov.context_mpp / fov.mpp) if fov.context_mpp else 1.0
    return PairedAugment(presets, ratio=ratio, seed=config.train.seed)

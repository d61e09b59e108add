"""The augmentation a stage's sampler applies: its presets built for its fields of view (or none)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from hookseg.train.config import StageConfig

log = logging.getLogger(__name__)


def build_augment(config: StageConfig) -> Callable | None:
    """PairedAugment for the stage's presets; a style bank fills the `gan` slot when one is given."""
    presets = list(config.train.augment)
    if not presets:
        return None
    from hookseg.augment import PairedAugment  # albumentations only when augmenting

    fov = config.fov
    ratio = (fov.context_mpp / fov.mpp) if fov.context_mpp else 1.0
    augment = PairedAugment(presets, ratio=ratio, seed=config.train.seed)
    bank_path = config.train.style_bank or os.environ.get("HOOKSEG_STYLE_BANK")
    bank = None
    if bank_path and bank_path.lower() != "none":
        from stylegan_aug.bank import load_bank

        bank = load_bank(bank_path)  # None for the empty bank (configs/style_bank_empty.json)
        if bank is not None and augment.attach_style_bank(bank) == 0:
            log.warning("style bank %s given, but presets %s have no `gan` slot", bank_path, presets)
    if bank is None and augment.pipeline.style_slots():
        from hookseg.errors import ConfigError

        msg = (f"train.augment: the `gan` preset needs a style bank with a generator (--style-bank "
               f"stylegan/bank.json). Received: {bank_path or 'none'}")
        raise ConfigError(msg)
    return augment

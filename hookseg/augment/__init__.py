"""Context-aware augmentation: paper Table 8 presets applied consistently to target + context views.

``_offline`` comes first: it stops albumentations from asking PyPI for updates when it is imported.
"""

from __future__ import annotations

from hookseg.augment import _offline  # noqa: F401 - imported for its side effect: no update check
from hookseg.augment.config import DEFAULT_CONFIG, AugmentConfig, load_config, parse_config
from hookseg.augment.dual_fov import PairedGeometry, PerView
from hookseg.augment.lens import MultiLensDistortion, OpticalLens
from hookseg.augment.paired import PairedAugment
from hookseg.augment.presets import Pipeline, build_pipeline
from hookseg.augment.stain import HEDJitter, StyleBankSlot, TargetedHSV

__all__ = [
    "DEFAULT_CONFIG",
    "AugmentConfig",
    "HEDJitter",
    "MultiLensDistortion",
    "OpticalLens",
    "PairedAugment",
    "PairedGeometry",
    "PerView",
    "Pipeline",
    "StyleBankSlot",
    "TargetedHSV",
    "build_pipeline",
    "load_config",
    "parse_config",
]

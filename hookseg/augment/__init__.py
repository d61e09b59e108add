"""Context-aware augmentation: paper Table 8 presets applied consistently to target + context views.

albumentations 2.0.8 asks PyPI for a newer version at import (2 s timeout offline), so the opt-out is set
before it is imported anywhere in this package.
"""

from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from hookseg.augment.config import DEFAULT_CONFIG, AugmentConfig, load_config, parse_config  # noqa: E402
from hookseg.augment.dual_fov import PairedAugment  # noqa: E402
from hookseg.augment.lens import MultiLensDistortion, OpticalLens  # noqa: E402
from hookseg.augment.presets import Pipeline, build_pipeline  # noqa: E402
from hookseg.augment.stain import HEDJitter, StyleBankSlot, TargetedHSV  # noqa: E402

__all__ = [
    "DEFAULT_CONFIG",
    "AugmentConfig",
    "HEDJitter",
    "MultiLensDistortion",
    "OpticalLens",
    "PairedAugment",
    "Pipeline",
    "StyleBankSlot",
    "TargetedHSV",
    "build_pipeline",
    "load_config",
    "parse_config",
]

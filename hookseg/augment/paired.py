"""``PairedAugment``: the presets' ``Compose`` applied to one sample (target + context, each with labels).

Determinism: each call draws one seed from the caller's ``np.random.Generator`` and drives every transform
from a single ``random.Random`` + ``np.random.Generator`` made from it (``Compose(seed=)`` would give each
transform its own identical stream, so their ``p`` draws would coincide).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hookseg.augment.config import AugmentConfig, load_config
from hookseg.augment.presets import Pipeline, build_pipeline
from hookseg.augment.stain import StyleBank

Arrays = tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None, np.ndarray | None]


def _check_view(name: str, image: np.ndarray, mask: np.ndarray | None) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        msg = f"`{name}` must be an H x W x 3 uint8 RGB array. Received: {image.shape}, dtype={image.dtype}"
        raise ValueError(msg)
    if mask is not None and mask.dtype != np.uint8:
        msg = f"`{name}_mask` must be a uint8 label map (255 = ignore). Received: dtype={mask.dtype}"
        raise ValueError(msg)
    if mask is not None and mask.shape != image.shape[:2]:
        msg = (
            f"`{name}_mask` must be H x W like `{name}`. Received: {mask.shape} for an image of {image.shape}"
        )
        raise ValueError(msg)


class PairedAugment:
    """Augment (target, target_mask, context, context_mask) consistently; call with ``rng=``.

    Args:
        presets: preset names from the config (a phase's ``augment`` list in params.yaml).
        config: an ``AugmentConfig``, a YAML path, or None for the repository's ``configs/augment.yaml``.
        ratio: context mpp / target mpp (4 in the paper); 1 when there is no context.
        seed: seeds the generator used when a call passes no ``rng``.
        force: apply every transform with probability 1 (galleries and tests).
    """

    def __init__(
        self,
        presets: Sequence[str],
        config: AugmentConfig | str | Path | None = None,
        *,
        ratio: float = 1.0,
        seed: int | None = None,
        force: bool = False,
    ) -> None:
        if isinstance(presets, str):
            presets = [presets]
        if not isinstance(ratio, int | float) or not math.isfinite(ratio) or ratio <= 0:
            msg = f"`ratio` must be a positive number (context mpp / target mpp). Received: ratio={ratio!r}"
            raise ValueError(msg)
        self.config = config if isinstance(config, AugmentConfig) else load_config(config)
        self.presets = tuple(presets)
        self.ratio = float(ratio)
        self.force = force
        self.pipeline: Pipeline = build_pipeline(self.presets, self.config, ratio=self.ratio, force=force)
        self._rng = np.random.default_rng(seed)

    def attach_style_bank(self, bank: StyleBank | None) -> int:
        return self.pipeline.attach_style_bank(bank)

    def __repr__(self) -> str:
        names = list(self.pipeline.names)
        return f"PairedAugment(presets={list(self.presets)}, ratio={self.ratio}, transforms={names})"

    def __call__(
        self,
        target: np.ndarray,
        target_mask: np.ndarray | None = None,
        context: np.ndarray | None = None,
        context_mask: np.ndarray | None = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> Arrays:
        """Return the four arrays augmented (same shapes and dtypes); None or empty context passes through."""
        _check_view("target", target, target_mask)
        data = {"image": target, "mask": target_mask}
        if context is not None and context.size > 0:
            _check_view("context", context, context_mask)
            data.update(context=context, context_mask=context_mask)
        seed = int((self._rng if rng is None else rng).integers(2**62))
        self.pipeline.set_random_state(np.random.default_rng(seed), random.Random(seed))
        out = self.pipeline(**data)
        return out["image"], out["mask"], out.get("context", context), out.get("context_mask", context_mask)

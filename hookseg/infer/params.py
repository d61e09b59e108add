"""Prediction settings: ``configs/infer.yaml`` is their one source; this module only types and reads them.

No field has a default here: a value written twice drifts. ``InferParams.load()`` reads the file (cached per
path); callers that change a setting start from it (``dataclasses.replace(InferParams.load(), ...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hookseg.config import CONFIG_DIR, load_section, read_section

DEFAULT_CONFIG = CONFIG_DIR / "infer.yaml"


@dataclass(frozen=True)
class Hysteresis:
    """A predicted region (argmax or ``thresholds``: the low threshold) is kept if a pixel is >= ``high``."""

    high: float


@dataclass(frozen=True)
class InferParams:
    overlap: float  # fraction of the tile blended with its neighbours
    batch_size: int
    prefetch: int  # batches read ahead while the model runs
    mode: str  # "argmax", or "threshold": one-vs-rest per-class thresholds
    thresholds: dict[str, float]  # class name -> threshold, for mode "threshold"
    postprocess_mpp: float  # grid the region-level steps run on (bounded memory)
    min_region_um2: float  # smaller predicted regions become background
    fill_holes_um2: float  # holes smaller than this inside a region take its class
    hysteresis: Hysteresis | None  # keep a region only if it holds a pixel >= high
    simplify_um: float  # GeoJSON polygon simplification tolerance
    overlay_size: int  # longer side of the overlay PNG

    @classmethod
    def from_yaml(cls, path: str | Path | None = None) -> InferParams:
        """The ``infer`` section of ``path`` (default ``configs/infer.yaml``), read now."""
        return read_section(cls, path or DEFAULT_CONFIG, "infer")

    @classmethod
    def load(cls, path: str | Path | None = None) -> InferParams:
        """Like ``from_yaml``, read once per path: the no-argument form is every caller's default."""
        return load_section(cls, Path(path or DEFAULT_CONFIG).resolve(), "infer")

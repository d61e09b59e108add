"""Prediction settings (``configs/infer.yaml``): tiling, thresholds, post-processing, vector output."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hookseg.config import CONFIG_DIR, from_mapping, load_yaml


@dataclass(frozen=True)
class Hysteresis:
    low: float = 0.3
    high: float = 0.6


@dataclass(frozen=True)
class InferParams:
    overlap: float = 0.25  # fraction of the tile blended with its neighbours
    batch_size: int = 4
    prefetch: int = 2  # batches read ahead while the model runs
    mode: str = "argmax"  # or "threshold": one-vs-rest per-class thresholds
    thresholds: dict[str, float] = field(default_factory=lambda: {"tumour": 0.45, "other": 0.45})
    postprocess_mpp: float = 4.0  # grid the region-level steps run on (bounded memory)
    min_region_um2: float = 2000.0  # smaller predicted regions become background
    fill_holes_um2: float = 1000.0  # holes smaller than this inside a region take its class
    hysteresis: Hysteresis | None = None  # keep a region only if it holds a pixel >= high
    simplify_um: float = 2.0  # GeoJSON polygon simplification tolerance
    overlay_size: int = 1024  # longer side of the overlay PNG

    @classmethod
    def from_yaml(cls, path: str | Path | None = None) -> InferParams:
        path = Path(path) if path else CONFIG_DIR / "infer.yaml"
        return from_mapping(cls, load_yaml(path).get("infer", {}), source=path, key="infer")

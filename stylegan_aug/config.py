"""StyleGAN settings: ``configs/stylegan.yaml`` profiles (demo, smoke, paper) as frozen dataclasses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hookseg.config import CONFIG_DIR, from_mapping, load_yaml
from hookseg.errors import ConfigError

DEFAULT_CONFIG = CONFIG_DIR / "stylegan.yaml"


@dataclass(frozen=True)
class DataConfig:
    """Patches: ``size`` px at one of ``mpps`` (um/px), centred in tissue; ``pool`` kept per domain."""

    size: int
    mpps: tuple[float, ...]
    pool: int
    eval_patches: int
    splits: tuple[str, ...]
    min_tissue: float


@dataclass(frozen=True)
class ModelConfig:
    channels: tuple[int, ...]
    d_channels: tuple[int, ...]
    z_dim: int
    w_dim: int
    mapping_layers: int
    residual: bool


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    batch_size: int
    g_lr: float
    d_lr: float
    beta_1: float
    beta_2: float
    ssim_weight: float
    r1_gamma: float
    r1_every: int
    ema_beta: float
    log_every: int
    sample_every: int
    checkpoint_every: int
    seed: int
    eager: bool


@dataclass(frozen=True)
class StyleGANConfig:
    """One profile of ``configs/stylegan.yaml``, the one source of these values: no field has a default."""

    data: DataConfig
    model: ModelConfig
    train: TrainConfig

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace_train(self, **changes: Any) -> StyleGANConfig:
        """A copy with some training settings changed (CLI overrides such as ``--steps``)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, train=dataclasses.replace(self.train, **changes))


def load_config(path: str | Path | None = None, profile: str = "demo") -> StyleGANConfig:
    """Profile ``profile`` of ``path`` (default ``configs/stylegan.yaml``), validated."""
    path = Path(path) if path else DEFAULT_CONFIG
    data = load_yaml(path)
    if profile not in data:
        msg = f"{path}: no profile {profile!r}. Expected one of: {sorted(data)}"
        raise ConfigError(msg, path=path)
    config = from_mapping(StyleGANConfig, data[profile], source=path, key=profile)
    _validate(config, path, profile)
    return config


def _validate(config: StyleGANConfig, path: Path, profile: str) -> None:
    multiple = 2 ** (len(config.model.channels) - 1)
    problems = []
    if config.data.size % multiple or config.data.size < 16:
        problems.append(f"data.size must be >= 16 and a multiple of {multiple} (2 ** (len(channels) - 1)). "
                        f"Received: size={config.data.size}")
    if not config.data.mpps or min(config.data.mpps) <= 0:
        problems.append(f"data.mpps must list positive um/px. Received: mpps={list(config.data.mpps)}")
    if len(config.model.channels) < 2 or len(config.model.d_channels) < 2:
        problems.append("model.channels and model.d_channels need >= 2 widths")
    if not 0.0 <= config.train.ema_beta < 1.0:
        problems.append(f"train.ema_beta must be in [0, 1). Received: ema_beta={config.train.ema_beta}")
    if config.train.steps < 1 or config.train.batch_size < 1 or config.train.r1_every < 1:
        problems.append("train.steps, train.batch_size and train.r1_every must be >= 1")
    if problems:
        msg = f"{path}:{profile}: " + "; ".join(problems)
        raise ConfigError(msg, path=path)

"""StyleGAN settings: ``configs/stylegan.yaml`` profiles (``demo``, ``paper``) into frozen dataclasses."""

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

    size: int = 64
    mpps: tuple[float, ...] = (2.0,)
    pool: int = 1024
    eval_patches: int = 128
    splits: tuple[str, ...] = ("train", "val", "new_domain")
    min_tissue: float = 0.5


@dataclass(frozen=True)
class ModelConfig:
    channels: tuple[int, ...] = (32, 64, 128, 128)
    d_channels: tuple[int, ...] = (32, 64, 128, 128)
    z_dim: int = 64
    w_dim: int = 64
    mapping_layers: int = 4
    residual: bool = True


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 600
    batch_size: int = 8
    g_lr: float = 0.002
    d_lr: float = 0.002
    beta_1: float = 0.0
    beta_2: float = 0.99
    ssim_weight: float = 2.0
    r1_gamma: float = 0.1
    r1_every: int = 4
    ema_beta: float = 0.99
    log_every: int = 10
    sample_every: int = 200
    checkpoint_every: int = 100
    seed: int = 0
    eager: bool = False


@dataclass(frozen=True)
class StyleGANConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

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

"""Training configs: ``configs/{smoke,demo,paper}.yaml`` hold a ``base`` and a ``master`` stage each."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from hookseg.config import from_mapping, load_yaml
from hookseg.errors import ConfigError
from hookseg.model_meta import FieldOfView
from hookseg.slides.tissue import TissueParams

# Model kwargs that other settings determine: stated there once, passed to the builder by ``model_kwargs``.
DERIVED_KWARGS = {"input_size": "fov.size", "context_ratio": "fov.context_mpp / fov.mpp",
                  "num_classes": "the class map (hookseg train --classes)"}


@dataclass(frozen=True)
class ModelSpec:
    arch: str = "munet"
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DataSpec:
    ratios: dict[int, float] = field(default_factory=lambda: {1: 2.0, 0: 1.0, 2: 1.0})  # tumour:normal:other
    per_class: int = 200
    index_mpp: float = 8.0
    label_mpp: float = 0.5
    workers: int = 1
    use_multiprocessing: bool = False


@dataclass(frozen=True)
class TrainSpec:
    epochs: int = 20
    steps_per_epoch: int = 100
    val_steps: int = 10
    batch_size: int = 16
    lr0: float = 0.01
    steps_per_cycle: int = 400
    steps_per_stair: int = 100
    stair_decay: float = 0.5
    cycle_decay: float = 0.7
    # "dynamic" (Eq. 1 per batch), a static list, or "pixel": static weights from the pixel shares of
    # `pixel_weight_batches` sampled training batches, w_c ~ share_c ** -pixel_weight_power, mean 1
    class_weights: str | list[float] = "dynamic"
    pixel_weight_batches: int = 8
    pixel_weight_power: float = 1.0
    branch_weights: dict[str, float] = field(default_factory=lambda: {"final": 1.0, "context": 0.5})
    augment: list[str] = field(default_factory=lambda: ["basic"])
    # int, or "stage": a stable hash of the stage's run name (base, p1, ...): each phase draws other batches
    seed: int | Literal["stage"] = 0
    # "cyclic": the paper's stepwise cyclic LR (steps_per_cycle, ...); "warmup_cosine": linear warm-up over
    # warmup_steps, then a cosine to lr0 * lr_floor at epochs * steps_per_epoch
    schedule: Literal["cyclic", "warmup_cosine"] = "cyclic"
    warmup_steps: int = 10
    lr_floor: float = 0.01
    # The loss takes log_softmax of the logits (a view of the model before its softmax) instead of the log
    # of clipped probabilities: numerically stable, the same loss wherever no probability reaches the clip.
    logits_loss: bool = True
    # Keras steps_per_execution: train steps per call of the compiled function (fewer Python round trips)
    steps_per_execution: int = 1
    # Keras jit_compile (XLA): "auto" is Keras' own choice (off on a CPU-only TF host, on with a GPU)
    jit_compile: bool | Literal["auto"] = "auto"
    backup_every: int = 20  # steps between mid-epoch backups (resume after kill -9)
    run_eagerly: bool = False  # tests: skips TF's 60-120 s graph build for a handful of steps
    # BatchNorm moving-average momentum. Keras' 0.99 needs thousands of steps before inference-mode statistics
    # match the weights; a schedule of a few hundred steps (the demo) needs ~0.9. None keeps the model's own.
    bn_momentum: float | None = None
    style_bank: str | None = None  # stylegan_aug bank for the `gan` preset (also $HOOKSEG_STYLE_BANK)


@dataclass(frozen=True)
class StageConfig:
    model: ModelSpec
    fov: FieldOfView
    data: DataSpec = field(default_factory=DataSpec)
    train: TrainSpec = field(default_factory=TrainSpec)
    # The tissue mask for patch centres, soft-target cells, and (recorded in the model) its predictions;
    # None = configs/slides.yaml's. A stage section's `tissue:` or `hookseg train --tissue-config`.
    tissue: TissueParams | None = None

    def tissue_params(self) -> TissueParams:
        return self.tissue or TissueParams.load()

    def with_train(self, **changes: Any) -> StageConfig:
        return replace(self, train=replace(self.train, **changes))

    def model_kwargs(self, num_classes: int) -> dict[str, Any]:
        """The builder's kwargs: the config's own plus the fields of view's geometry and the class count."""
        derived: dict[str, Any] = {"input_size": self.fov.size, "num_classes": num_classes}
        if self.fov.context_ratio is not None:
            derived["context_ratio"] = self.fov.context_ratio
        return {**self.model.kwargs, **derived}

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def stage_seed(seed: int | str, stage: str) -> int:
    """An int seed as is; ``"stage"`` -> CRC32 of the stage name mod 2**31 (stable across runs and hosts,
    unlike Python's salted ``hash``)."""
    if isinstance(seed, int):
        return seed
    if seed != "stage":
        msg = f"train.seed: expected an integer or 'stage'. Received: {seed!r}"
        raise ConfigError(msg)
    return zlib.crc32(stage.encode()) % 2**31


def load_stage_config(path: str | Path, stage: str) -> StageConfig:
    """The ``stage`` section ("base" or "master") of a training config, validated."""
    path = Path(path)
    data = load_yaml(path)
    if stage not in data:
        msg = f"{path}: no section {stage!r}. Expected one of: {sorted(data)}"
        raise ConfigError(msg, path=path)
    config = from_mapping(StageConfig, data[stage], source=path, key=stage)
    _check_geometry(config, f"{path}:{stage}")
    return config


def _check_geometry(config: StageConfig, where: str) -> None:
    """Geometry is stated once, in ``fov``: model kwargs must not restate it; munet needs a context view."""
    path = where.split(":")[0]
    for key, source in DERIVED_KWARGS.items():
        if key in config.model.kwargs:
            msg = (f"{where}.model.kwargs.{key}: expected no value (it is {source}). "
                   f"Received: {config.model.kwargs[key]}")
            raise ConfigError(msg, path=path)
    fov = config.fov
    if config.model.arch == "munet" and fov.context_mpp is None:
        msg = f"{where}.fov.context_mpp: the munet model needs a context field of view. Received: null"
        raise ConfigError(msg, path=path)
    if fov.context_mpp is not None and abs(fov.context_mpp / fov.mpp - fov.context_ratio) > 1e-6:
        msg = (f"{where}.fov.context_mpp: expected an integer multiple of fov.mpp={fov.mpp:g}. "
               f"Received: {fov.context_mpp:g}")
        raise ConfigError(msg, path=path)

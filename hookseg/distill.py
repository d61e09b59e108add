"""Distil a teacher (the dual-resolution master) into a single-resolution U-Net student for fast inference.

The student sees only the teacher's target field of view (same size and mpp) and has no context input: it
learns to reproduce, from the target alone, what the teacher predicts from target + context, so the context
is distilled into its weights and prediction reads and runs one branch. Its class map is the teacher's.

Targets need no labels: patch centres are drawn on tissue (``hookseg.slides.tissue_mask``) of every ``train``
slide of the manifest, annotated or not, and the teacher's ``final`` softmax on target + context read around
the same centre (as ``hookseg predict`` reads them) is the soft target. The teacher runs inside the data
pipeline (:class:`TeacherDataset`), one call per training batch. Batch ``i`` of epoch ``e`` is drawn from
``np.random.default_rng([seed, e, i])``, so a rerun draws the same patches.

Loss (:func:`soft_cross_entropy`, Hinton's): ``T**2 * CE(softmax(log p_teacher / T), softmax(z_student / T))``
per pixel, averaged, T = 1 by default. It is computed on the student's logits (``train.logits_view``: the
U-Net's head is a softmax Activation) with ``log_softmax``; a student without a softmax output layer falls
back to ``log(clip(p))`` of its probabilities. The metrics record which (``loss_on``).

Augmentation: a random flip / quarter turn of input and soft target together (exact, unlike a resampling
warp); optionally colour presets (``--augment``) on the input only: the clean answer from a recoloured view.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from hookseg.cohort import Manifest
from hookseg.errors import ConfigError, ManifestError, ModelError
from hookseg.model_io import load_model_cached, save_model
from hookseg.model_meta import FieldOfView, ModelMeta, read_meta
from hookseg.sampling.dataset import SeededBatches
from hookseg.sampling.tissue import TissueCells, TissueCentres, tissue_cells, turn
from hookseg.slides.tissue import TissueParams
from hookseg.train.config import StageConfig, TrainSpec

log = logging.getLogger(__name__)

STAGE = "student"
EPSILON = 1e-7


@dataclass(frozen=True)
class DistillSettings:
    """What a distillation run varies; the rest comes from the config's ``base`` stage (model, optimiser)."""

    epochs: int
    steps_per_epoch: int
    seed: int = 0
    temperature: float = 1.0
    encoder: str | None = None  # None: the base stage's encoder
    decoder_filters: tuple[int, ...] | None = None  # None: the base stage's decoder
    augment: tuple[str, ...] = ()  # colour presets for the student's input


# --- teacher and student ----------------------------------------------------------------------------


def load_teacher(path: str | Path) -> tuple[keras.Model, ModelMeta]:
    """The teacher and its metadata, loaded once per process; a missing or unusable file is a ModelError."""
    read_meta(path)  # one-line ModelError for a missing file or one without hookseg metadata
    try:
        model, meta = load_model_cached(path)
    except (ValueError, TypeError, OSError) as err:
        msg = f"{path}: cannot load the teacher model ({str(err).splitlines()[0]})"
        raise ModelError(msg, path=path) from None
    if not isinstance(model.output, dict) or "final" not in model.output:
        msg = f"{path}: expected a segmentation model with a 'final' output. Received: {model.output_names}"
        raise ModelError(msg, path=path)
    return model, meta


def student_meta(teacher: ModelMeta) -> ModelMeta:
    """The teacher's target field of view without context, its class map and tissue mask; stage student."""
    fov = FieldOfView(size=teacher.fov.size, mpp=teacher.fov.mpp, context_mpp=None)
    return ModelMeta(fov, teacher.class_map, STAGE, teacher.tissue)


def student_config(config: StageConfig, teacher: ModelMeta, settings: DistillSettings) -> StageConfig:
    """The ``base`` stage resized to the teacher's target view, with the run's schedule and seed."""
    if config.model.arch != "unet":
        msg = (f"base.model.arch: expected 'unet' (the student is a single-resolution U-Net). Received: "
               f"{config.model.arch!r}")
        raise ConfigError(msg)
    kwargs = dict(config.model.kwargs)
    if settings.encoder is not None:
        kwargs["encoder"] = settings.encoder
    if settings.decoder_filters is not None:
        kwargs["decoder_filters"] = list(settings.decoder_filters)
    model = replace(config.model, kwargs=kwargs)
    return replace(config, model=model, fov=student_meta(teacher).fov).with_train(
        epochs=settings.epochs, steps_per_epoch=settings.steps_per_epoch, seed=settings.seed)


# --- loss ---------------------------------------------------------------------------------------------


def soften(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log p / T)``: the teacher's softmax at temperature T, from its probabilities (exact, since
    ``log p`` is its logits up to a per-pixel constant)."""
    if temperature == 1.0:
        return probs
    logits = np.log(np.clip(probs, EPSILON, 1.0)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    soft = np.exp(logits)
    return (soft / soft.sum(axis=-1, keepdims=True)).astype(np.float32)


def soft_cross_entropy(y_true, y_pred, temperature: float = 1.0, from_logits: bool = True):
    """Mean per-pixel ``T**2 * -sum_c q_c log s_c`` with ``q`` the (softened) teacher probabilities and ``s``
    the student's softmax at T. ``T**2`` keeps the gradient's scale independent of T (Hinton et al.)."""
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    if not from_logits:
        y_pred = ops.log(ops.clip(y_pred, EPSILON, 1.0))  # log p is a valid logit
    log_student = ops.log_softmax(y_pred / temperature, axis=-1)
    return temperature**2 * ops.mean(-ops.sum(y_true * log_student, axis=-1))


class SoftCrossEntropy(keras.losses.Loss):
    """Loss class around :func:`soft_cross_entropy` (never saved: only the student's weights are)."""

    def __init__(self, temperature: float = 1.0, from_logits: bool = True, name: str = "soft_ce",
                 **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.temperature = float(temperature)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        return soft_cross_entropy(y_true, y_pred, self.temperature, self.from_logits)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "temperature": self.temperature, "from_logits": self.from_logits}


# --- patches ------------------------------------------------------------------------------------------


class TeacherDataset(SeededBatches):
    """Batches of (``{"target": student input}``, ``{"final": teacher soft target}``) on tissue patches.

    Holds paths, cells and a seed only; slides open lazily and the teacher loads once per process
    (``load_model_cached``). The teacher runs here, in the data pipeline, at the training batch size.
    """

    def __init__(
        self, cells: dict[str, TissueCells], teacher: str | Path, *, batch_size: int, steps: int,
        seed: int, temperature: float = 1.0, flips: bool = False,
        augment: Callable[..., Any] | None = None, **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not cells:
            msg = "no slide with tissue to draw patches from"
            raise ManifestError(msg)
        self.pool = TissueCentres(cells)
        self.teacher = str(teacher)
        self.batch_size, self.steps, self.seed = batch_size, steps, seed
        self.temperature, self.flips, self.augment = temperature, flips, augment
        self.epoch = 0
        self._readers: dict[str, Any] = {}

    def views(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The teacher's input: target (and context) around each centre, as ``hookseg predict`` reads them."""
        fov = load_model_cached(self.teacher)[1].fov
        targets, contexts = [], []
        for slide_id, centre in self.pool.draw(self.batch_size, rng):
            slide = self._open(slide_id)
            targets.append(slide.read_at_center(centre, (fov.size, fov.size), fov.mpp))
            if fov.context_mpp is not None:
                contexts.append(slide.read_at_center(centre, (fov.context_size,) * 2, fov.context_mpp))
        views = {"target": np.stack(targets)}
        if contexts:
            views["context"] = np.stack(contexts)
        return views

    def __getitem__(self, batch: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        rng = np.random.default_rng([self.seed, self.epoch, batch])
        views = self.views(rng)
        teacher = load_model_cached(self.teacher)[0]
        output = teacher.predict_on_batch({k: v.astype(np.float32) for k, v in views.items()})
        soft = soften(np.asarray(output["final"], np.float32), self.temperature)
        images, targets = [], []
        for image, target in zip(views["target"], soft, strict=True):
            if self.augment is not None:
                image = self.augment(image, np.zeros(image.shape[:2], np.uint8), None, None, rng=rng)[0]
            if self.flips:
                image, target = turn([image, target], rng)
            images.append(image)
            targets.append(target)
        return {"target": np.stack(images).astype(np.float32)}, {"final": np.stack(targets)}

    def _open(self, slide_id: str):
        if slide_id not in self._readers:
            from hookseg.slides import open_slide

            cells = self.pool.cells[slide_id]
            self._readers[slide_id] = open_slide(cells.path, mpp=cells.mpp)
        return self._readers[slide_id]


def colour_augment(presets: Sequence[str], seed: int) -> Callable[..., Any] | None:
    """The project's augmentation for colour presets only: a warp would misalign the soft target."""
    if not presets:
        return None
    from hookseg.augment import PairedAugment

    augment = PairedAugment(list(presets), ratio=1.0, seed=seed)
    if augment.pipeline.geometry is not None:
        msg = (f"--augment: expected colour/noise presets only (the target is the teacher's soft output, "
               f"which a warp would misalign; flips are always on). Received: {','.join(presets)}")
        raise ConfigError(msg)
    return augment


# --- agreement ----------------------------------------------------------------------------------------


def agreement(student: keras.Model, dataset: TeacherDataset) -> dict[str, float]:
    """Student vs teacher on ``dataset`` (T = 1, no augmentation): share of pixels whose argmax agrees,
    and mean KL(teacher || student) per pixel in nats."""
    same = kl = pixels = 0.0
    for i in range(len(dataset)):
        x, y = dataset[i]
        teacher = y["final"]
        output = student.predict_on_batch(x)
        mine = np.asarray(output["final"] if isinstance(output, dict) else output, np.float32)
        same += float((mine.argmax(-1) == teacher.argmax(-1)).sum())
        log_ratio = np.log(np.clip(teacher, EPSILON, 1.0)) - np.log(np.clip(mine, EPSILON, 1.0))
        kl += float((teacher * log_ratio).sum())
        pixels += teacher.shape[0] * teacher.shape[1] * teacher.shape[2]
    return {"agreement": same / pixels, "mean_kl": kl / pixels, "pixels": int(pixels)}


# --- the run ------------------------------------------------------------------------------------------


def compile_student(student: keras.Model, config: StageConfig, temperature: float) -> tuple[keras.Model, str]:
    """The model ``fit`` trains (its logits view if it has one) with the soft-target loss, and what the loss
    is computed on ("logits" or "probabilities")."""
    from hookseg.train.logits import logits_view
    from hookseg.train.loop import set_bn_momentum
    from hookseg.train.schedule import make_schedule

    t = config.train
    if t.bn_momentum is not None:
        set_bn_momentum(student, t.bn_momentum)
    fitted = logits_view(student) or student
    on_logits = fitted is not student
    fitted.compile(
        optimizer=keras.optimizers.Adam(learning_rate=make_schedule(t)),
        loss={"final": SoftCrossEntropy(temperature, from_logits=on_logits)},
        run_eagerly=t.run_eagerly, steps_per_execution=t.steps_per_execution, jit_compile=t.jit_compile,
    )
    return fitted, "logits" if on_logits else "probabilities"


def distill(
    teacher_path: Path, config: StageConfig, manifest: Manifest, settings: DistillSettings, out: Path, *,
    metrics_path: Path | None = None, work_dir: Path | None = None, track: bool = True,
) -> dict[str, Any]:
    """Train the student on the teacher's soft targets and save it to ``out`` (.keras, atomically); with
    ``metrics_path``, measure agreement on ``val`` patches and write it (JSON). Returns the metrics."""
    from hookseg.io import write_json
    from hookseg.model import create_model
    from hookseg.model.factory import parameter_report
    from hookseg.train.loop import build_training_state

    teacher, teacher_meta = load_teacher(teacher_path)
    config = student_config(config, teacher_meta, settings)
    t = config.train
    keras.utils.set_random_seed(t.seed)
    tissue = TissueParams.of_model(teacher_meta.tissue, source=f"{teacher_path}:tissue")  # where it predicts
    train_cells = tissue_cells(manifest.select(["train"], option="distill (training patches)"), tissue)
    augment = colour_augment(settings.augment, t.seed)
    train_ds = TeacherDataset(train_cells, teacher_path, batch_size=t.batch_size, steps=t.steps_per_epoch,
                              seed=t.seed, temperature=settings.temperature, flips=True, augment=augment)
    val_ds = None
    if metrics_path is not None:
        val_cells = tissue_cells(manifest.select(["val"], option="--metrics"), tissue)
        val_ds = TeacherDataset(val_cells, teacher_path, batch_size=t.batch_size, steps=t.val_steps,
                                seed=t.seed + 1)
    student = create_model("unet", **config.model_kwargs(teacher_meta.class_map.num_classes))
    fitted, loss_on = compile_student(student, config, settings.temperature)
    build_training_state(fitted, train_ds[0])  # optimiser slots before fit traces its step (as `train`)
    metrics: dict[str, Any] = {
        "stage": STAGE, "teacher": str(teacher_path), "loss_on": loss_on, "temperature": settings.temperature,
        "epochs": t.epochs, "steps_per_epoch": t.steps_per_epoch, "batch_size": t.batch_size, "seed": t.seed,
        "train_slides": len(train_cells), "encoder": config.model.kwargs.get("encoder"),
        "decoder_filters": config.model.kwargs.get("decoder_filters"),
        "student_params": parameter_report(student)["total_trainable"],
        "teacher_params": int(sum(int(np.prod(w.shape)) for w in teacher.trainable_weights)),
    }
    with _tracking(track, config, teacher_path, work_dir) as run:
        started = time.perf_counter()
        history = fitted.fit(train_ds, epochs=t.epochs, callbacks=_callbacks(train_ds, t, work_dir, run),
                             verbose=2)
        metrics["train_s"] = round(time.perf_counter() - started, 1)
        metrics["final_loss"] = float(history.history["loss"][-1]) if history.history.get("loss") else None
        if val_ds is not None:
            metrics |= {"split": "val", **agreement(student, val_ds)}
        save_model(student, out, student_meta(teacher_meta))
        if run is not None:
            import mlflow

            mlflow.log_metrics({k: v for k, v in metrics.items() if isinstance(v, float)})
            metrics["mlflow_run_id"] = run.info.run_id
    if metrics_path is not None:
        write_json(metrics_path, metrics)
    return metrics


def _callbacks(
    train_ds: TeacherDataset, t: TrainSpec, work_dir: Path | None, run: Any,
) -> list[keras.callbacks.Callback]:
    """Epoch sync (seeded batches), resumable backups under ``work_dir``, MLflow when tracking."""
    from hookseg.train.callbacks import SyncDatasetEpoch

    callbacks: list[keras.callbacks.Callback] = [SyncDatasetEpoch(train_ds)]  # needs only set_epoch
    if work_dir is not None:
        callbacks.append(keras.callbacks.BackupAndRestore(str(work_dir / "backup"), save_freq=t.backup_every,
                                                          double_checkpoint=True))
    if run is not None:
        import mlflow

        callbacks.append(mlflow.keras.MlflowCallback())
    return callbacks


def _tracking(enabled: bool, config: StageConfig, teacher: Path, work_dir: Path | None):
    """An MLflow run tagged stage ``student`` (resumed from ``work_dir``), or a context yielding None."""
    if not enabled:
        return contextlib.nullcontext()
    from hookseg.tracking import start_run

    return start_run(stage=STAGE, config=config.as_dict(), tags={"teacher": str(teacher)},
                     run_id_file=None if work_dir is None else work_dir / "mlflow_run_id")

"""One training stage: index the labelled slides, build or continue a model, fit with resume, log, save.

Everything a stage writes besides its outputs lives in ``work_dir`` (patch index, backups, the MLflow run
id), so running the same command again after an interruption continues where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import keras
import numpy as np

from hookseg.annotations import ClassMap
from hookseg.cohort import Manifest
from hookseg.errors import ConfigError
from hookseg.io import write_json
from hookseg.model_io import ModelMeta, load_model, save_model
from hookseg.sampling import IndexParams, PatchDataset, build_index, sources_from_records
from hookseg.train.callbacks import SyncDatasetEpoch
from hookseg.train.config import StageConfig, stage_seed

log = logging.getLogger(__name__)


def build_model(
    config: StageConfig, init_model: Path | None, class_map: ClassMap,
) -> tuple[keras.Model, dict[str, Any]]:
    """Continue ``init_model``, or build the configured architecture for its fields of view and classes.

    An init model of the configured architecture (its name is ``model.arch``, e.g. ``munet``) is continued
    whole. One of another architecture (phase 1 from the base U-Net) warm-starts a new model: the layers
    both share (the target branch's EfficientNet encoder, matched by name and shape) are copied, the
    rest starts at random (:mod:`hookseg.model.transfer`). The dict says what was done, for the metrics.
    """
    from hookseg.model import create_model

    kwargs = config.model_kwargs(class_map.num_classes)
    if init_model is None:
        return create_model(config.model.arch, **kwargs), {"init": "random"}
    log.info("starting from %s", init_model)
    loaded, meta = load_model(init_model)
    if meta.class_map.names != class_map.names:
        msg = (f"{init_model}:class_map: expected the stage's classes {list(class_map.names)}. "
               f"Received: {list(meta.class_map.names)}")
        raise ConfigError(msg, path=init_model)
    arch = config.model.kwargs.get("name", config.model.arch)
    if loaded.name == arch:
        return loaded, {"init": "continue"}
    from hookseg.model.transfer import transfer_weights

    model = create_model(config.model.arch, **kwargs)
    report = transfer_weights(model, loaded)
    if report.tensors == 0:
        log.warning("%s (%s) shares no layer with the %s model: it starts from random weights",
                    init_model, loaded.name, arch)
    return model, {"init": "warm_start", "warm_start_tensors": report.tensors,
                   "warm_start_params": report.params}


def set_bn_momentum(model: keras.Model, momentum: float) -> int:
    """Set every BatchNormalization's momentum, inside nested models and custom layers too.

    Keras 3 has no public recursive layer walk; ``_flatten_layers`` is what its own summary and saving use.
    """
    layers = [x for x in model._flatten_layers() if isinstance(x, keras.layers.BatchNormalization)]
    for layer in layers:
        layer.momentum = momentum
    return len(layers)


def output_keys(model: keras.Model) -> list[str]:
    """The keys labels must use: the output dict's keys ("final", "context"), not the layer names."""
    return list(model.output) if isinstance(model.output, dict) else list(model.output_names)


def num_classes_of(model: keras.Model) -> int:
    final = model.output["final"] if isinstance(model.output, dict) else model.output
    return int(final.shape[-1])


def compile_model(
    model: keras.Model, config: StageConfig, class_map: ClassMap,
    class_weights: str | list[float] | None = None,
) -> keras.Model:
    """Compile the model that ``fit`` trains and return it: the logits view of ``model`` (same weights,
    outputs before the softmax; ``train.logits_loss``) or ``model`` itself. ``model`` stays the one to save.

    ``class_weights`` replaces ``train.class_weights`` (the ``pixel`` weights measured before training).
    """
    from hookseg.losses import branch_losses
    from hookseg.metrics import iou_metrics
    from hookseg.train.logits import logits_view
    from hookseg.train.schedule import make_schedule

    t = config.train
    if t.bn_momentum is not None:
        log.info("BatchNorm momentum %.3f on %d layers", t.bn_momentum, set_bn_momentum(model, t.bn_momentum))
    fitted = (logits_view(model) if t.logits_loss else None) or model
    outputs = output_keys(model)
    losses, weights = branch_losses(
        outputs, t.class_weights if class_weights is None else class_weights,
        {k: v for k, v in t.branch_weights.items() if k in outputs}, class_map.ignore_id,
        from_logits=fitted is not model,
    )
    num_classes = num_classes_of(model)
    fitted.compile(
        optimizer=keras.optimizers.Adam(learning_rate=make_schedule(t)),
        loss=losses,
        loss_weights=weights,
        metrics={"final": iou_metrics(num_classes, list(class_map.names[:num_classes]), class_map.ignore_id)},
        run_eagerly=t.run_eagerly,
        steps_per_execution=t.steps_per_execution,
        jit_compile=t.jit_compile,
    )
    return fitted


def build_training_state(fitted: keras.Model, batch: Any) -> None:
    """Create the optimizer slots, loss trackers and metric variables before ``fit`` traces its step.

    On TensorFlow Keras defers them to the first traced step, whose graph then also creates and lifts out
    their initialisers. ``_symbolic_build`` is what Keras itself runs first on the JAX and torch backends
    and under a distribution strategy. With ``final_confusion``, measured on a demo master stage (p3, 30
    steps, interleaved A/B): 97 and 105 s -> 66 and 73 s per stage.
    """
    build = getattr(fitted, "_symbolic_build", None)
    if build is not None:
        build(data_batch=batch)
    elif fitted.optimizer is not None and not fitted.optimizer.built:
        fitted.optimizer.build(fitted.trainable_variables)


def pixel_counts_of(dataset: PatchDataset, batches: int, num_classes: int, ignore_id: int) -> np.ndarray:
    """Labelled pixels per class of the final output over the first ``batches`` batches (epoch 0); for soft
    targets the sum of their probabilities."""
    counts = np.zeros(num_classes, np.float64)
    for i in range(min(batches, len(dataset))):
        _, y = dataset[i]
        final = np.asarray(y["final"])
        if final.ndim == 4 and final.shape[-1] == num_classes:  # soft targets: expected pixels per class
            counts += final.reshape(-1, num_classes).sum(axis=0)
            continue
        labels = final.ravel()
        labels = labels[(labels != ignore_id) & (labels < num_classes)]
        counts += np.bincount(labels, minlength=num_classes)[:num_classes]
    return counts


def stage_class_weights(
    config: StageConfig, dataset: PatchDataset, class_map: ClassMap,
) -> tuple[str | list[float], dict[str, Any]]:
    """The loss's class weights: the configured ones, or for ``pixel`` static weights measured on the
    stage's own sampled batches (augmentation and the 2:1:1 centre balance included)."""
    from hookseg.class_weights import PIXEL, pixel_share_weights

    t = config.train
    if t.class_weights != PIXEL:
        return t.class_weights, {}
    counts = pixel_counts_of(dataset, t.pixel_weight_batches, class_map.num_classes, class_map.ignore_id)
    weights = pixel_share_weights(counts, t.pixel_weight_power)
    shares = counts / max(counts.sum(), 1.0)
    log.info("pixel shares %s -> class weights %s", np.round(shares, 3).tolist(),
             np.round(weights, 3).tolist())
    info = {f"pixel_share_{class_map.names[c]}": float(shares[c]) for c in range(class_map.num_classes)}
    info |= {f"class_weight_{class_map.names[c]}": float(weights[c]) for c in range(class_map.num_classes)}
    return weights, info


def make_datasets(
    config: StageConfig, manifest: Manifest, labels: Mapping[str, Path], work_dir: Path,
    augment: Callable | None, num_classes: int = 3,
) -> tuple[PatchDataset, PatchDataset | None]:
    d, t = config.data, config.train
    params = IndexParams(per_class=d.per_class, index_mpp=d.index_mpp, num_classes=num_classes, seed=t.seed,
                         tissue=config.tissue_params())
    datasets = []
    for split, steps, aug in (("train", t.steps_per_epoch, augment), ("val", t.val_steps, None)):
        records = [r for r in manifest.split(split) if r.slide_id in labels]
        if not records:
            datasets.append(None)
            continue
        index_path = work_dir / f"index_{split}.parquet"
        if index_path.exists():
            import pandas as pd

            index = pd.read_parquet(index_path)
        else:
            index = build_index(records, labels, params, index_path)
        datasets.append(PatchDataset(
            index, sources_from_records(records, labels), config.fov, batch_size=t.batch_size, steps=steps,
            ratios=d.ratios, seed=t.seed + (0 if split == "train" else 1), augment=aug,
            workers=d.workers if split == "train" else 1,
            use_multiprocessing=d.use_multiprocessing and split == "train",
        ))
    if datasets[0] is None:
        msg = f"{manifest.path}: no training slide has labels; nothing to train on"
        raise ValueError(msg)
    return datasets[0], datasets[1]


def confusion_on(model: keras.Model, dataset: PatchDataset, num_classes: int) -> np.ndarray:
    """Confusion matrix (rows = truth) of the final output over every batch of ``dataset``.

    A compiled model is scored by ``evaluate``: its test step, which validation already built, fills the
    :class:`SegmentationIoU` metric, so no third graph (predict) is traced. Otherwise batch by batch.
    """
    from hookseg.metrics import SegmentationIoU, confusion_matrix

    metric = _mean_iou_metric(model, SegmentationIoU) if model.compiled else None
    if metric is not None:
        model.evaluate(dataset, verbose=0)
        return metric.confusion_matrix().astype(np.int64)
    total = np.zeros((num_classes, num_classes), np.int64)
    for i in range(len(dataset)):
        x, y = dataset[i]
        pred = model.predict_on_batch(x)
        final = pred["final"] if isinstance(pred, dict) else (pred[0] if isinstance(pred, list) else pred)
        total += np.asarray(keras.ops.convert_to_numpy(confusion_matrix(y["final"], final, num_classes)))
    return total


def final_confusion(
    fitted: keras.Model, val_ds: PatchDataset | None, train_ds: PatchDataset, num_classes: int,
) -> np.ndarray:
    """The val confusion matrix after ``fit``. Keras resets a metric when a pass starts, not when it ends,
    so fit's last validation pass left it in the compiled IoU metric: reading it there spares tracing and
    running the evaluate graph again, and the stage reports what fit logged as ``val_*``. (A second pass
    would draw other val patches: the val sampler moves on with the epoch.) Without val: the train batches."""
    from hookseg.metrics import SegmentationIoU

    metric = _mean_iou_metric(fitted, SegmentationIoU) if val_ds is not None else None
    if metric is None:
        return confusion_on(fitted, val_ds or train_ds, num_classes)
    return metric.confusion_matrix().astype(np.int64)


def _mean_iou_metric(model: keras.Model, kind: type) -> Any:
    """The compiled mean-IoU metric of the final output (Keras nests compiled metrics one level down)."""
    stack = list(model.metrics)
    while stack:
        metric = stack.pop()
        if isinstance(metric, kind) and metric.class_id is None:
            return metric
        stack.extend(getattr(metric, "metrics", []))
    return None


def train_stage(
    config: StageConfig,
    *,
    manifest: Manifest,
    labels: Mapping[str, Path],
    out_model: Path,
    metrics_path: Path,
    work_dir: Path,
    stage: str,
    init_model: Path | None = None,
    augment: Callable | None = None,
    mlflow_tags: Mapping[str, str] | None = None,
    class_map: ClassMap | None = None,
    teacher: Path | None = None,
    soft_share: float = 0.5,
    soft_augment: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Train one stage and write ``out_model`` (.keras) and ``metrics_path`` (JSON) atomically.

    ``class_map`` (default configs/classes.yaml) sizes the model and is saved in its metadata, from where
    pseudo-labelling, prediction and evaluation take it. With ``teacher``, ``soft_share`` of every training
    batch is tissue of any training slide labelled by the teacher's softmax (``train.soft_targets``), seen
    through ``soft_augment`` (colour presets; default: those of the stage's augmentation).
    """
    import mlflow

    from hookseg.metrics import iou_from_confusion
    from hookseg.tracking import start_run

    class_map = class_map or ClassMap.default()
    config = config.with_train(seed=stage_seed(config.train.seed, stage))
    config = replace(config, tissue=config.tissue_params())  # resolved: logged, and saved with the model
    log.info("stage %s: seed %d, schedule %s", stage, config.train.seed, config.train.schedule)
    keras.utils.set_random_seed(config.train.seed)
    work_dir.mkdir(parents=True, exist_ok=True)
    train_ds, val_ds = make_datasets(config, manifest, labels, work_dir, augment, class_map.num_classes)
    soft_info: dict[str, Any] = {}
    if teacher is not None:
        from hookseg.train.soft_targets import soft_batches

        train_ds = soft_batches(train_ds, config, manifest, labels, teacher, soft_share,
                                class_map.num_classes, soft_augment)
        soft_info = {"teacher": str(teacher), "soft_share": train_ds.soft_size / config.train.batch_size,
                     "soft_slides": len(train_ds.pool),
                     "soft_augment": "same" if soft_augment is None else ",".join(soft_augment) or "none"}
    model, init_info = build_model(config, init_model, class_map)
    class_weights, weight_info = stage_class_weights(config, train_ds, class_map)
    fitted = compile_model(model, config, class_map, class_weights)
    build_training_state(fitted, train_ds[0])
    num_classes = num_classes_of(model)
    with start_run(stage=stage, config=config.as_dict(), run_id_file=work_dir / "mlflow_run_id",
                   tags=mlflow_tags) as run:
        callbacks = [
            SyncDatasetEpoch(train_ds),
            keras.callbacks.BackupAndRestore(str(work_dir / "backup"), save_freq=config.train.backup_every,
                                             double_checkpoint=True),
            mlflow.keras.MlflowCallback(),
        ]
        history = fitted.fit(train_ds, validation_data=val_ds, epochs=config.train.epochs,
                             callbacks=callbacks, verbose=2)
        cm = final_confusion(fitted, val_ds, train_ds, num_classes)
        iou = iou_from_confusion(cm)
        metrics = {
            "stage": stage,
            "split": "val" if val_ds is not None else "train",
            "mean_iou": float(np.nanmean(iou)),
            **{f"iou_{class_map.names[c]}": float(iou[c]) for c in range(num_classes)},
            "final_loss": float(history.history["loss"][-1]) if history.history.get("loss") else None,
            "epochs": config.train.epochs,
            "seed": config.train.seed,
            **init_info,
            **weight_info,
            **soft_info,
        }
        mlflow.log_metrics({k: v for k, v in metrics.items() if isinstance(v, float)})
        meta = ModelMeta(config.fov, class_map, stage, config.tissue_params().as_dict())
        save_model(model, out_model, meta)
        mlflow.log_artifact(str(out_model), artifact_path="model")
        metrics["mlflow_run_id"] = run.info.run_id
    write_json(metrics_path, metrics)
    return metrics

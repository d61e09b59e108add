"""Soft-target batches for a self-training phase: the teacher's whole distribution, not thresholded labels.

Why: thresholded pseudo-labels drop every pixel below the threshold (the demo's background was never
labelled) and turn a 0.6/0.4 answer into a certainty, while distilling p5's softmax with colour noise on the
student's input only gave a better model than p5 on both cohorts (docs/self-training.md, fourth bundle). So a
soft phase fills each batch with two kinds of patch:

* ``1 - soft_share`` of it from the stage's label rasters (the manual annotations, or with ``hard_labels:
  pseudo`` the phase's thresholded pseudo-labels), exactly as a stage without a teacher draws them (balanced
  centres, the phase's full augmentation), as one-hot targets;
* ``soft_share`` of it from tissue anywhere on any training slide, annotated or not, whose target is the
  teacher's softmax on the clean view (``final``, and ``context`` where the teacher has one), with the same
  label rasters winning where a slide has them. The student sees the view through colour presets only (a
  warp would misalign the target): the phase's own, or its ``soft_augment`` presets where those differ, so
  a strong recolouring can teach stain invariance on the teacher's answers without recolouring the manual
  labels too; plus an exact flip / quarter turn of view and target.

Targets are (B, H, W, C) distributions; an all-zero row means "no target" (an unannotated pixel of a manual
patch), which :mod:`hookseg.losses` skips. Validation keeps the integer manual labels.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hookseg.cohort import Manifest
from hookseg.errors import ConfigError
from hookseg.model_io import load_model_cached
from hookseg.model_meta import read_meta
from hookseg.sampling import PatchDataset
from hookseg.sampling.dataset import SeededBatches
from hookseg.sampling.labels import open_labels, read_labels_at_center
from hookseg.sampling.tissue import TissueCells, TissueCentres, tissue_cells, turn
from hookseg.sampling.views import FieldOfView
from hookseg.train.config import StageConfig

log = logging.getLogger(__name__)


def onehot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(..., ) class ids -> (..., C) float32 one-hot; ids outside [0, C) (the ignore id) give a zero row."""
    eye = np.vstack([np.eye(num_classes, dtype=np.float32), np.zeros((1, num_classes), np.float32)])
    return eye[np.where(labels < num_classes, labels, num_classes)]


def overlay_manual(soft: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """The teacher's distribution where ``labels`` has no class, the label's one-hot where it has one."""
    labelled = labels < num_classes
    return np.where(labelled[..., None], onehot(labels, num_classes), soft).astype(np.float32)


def check_teacher_view(teacher: str | Path, fov: FieldOfView) -> None:
    """The teacher must see what the student's target branch sees (size and mpp; its context, if any)."""
    meta = read_meta(teacher)  # a missing file or one without hookseg metadata: a one-line ModelError
    mine = (fov.size, fov.mpp)
    theirs = (meta.fov.size, meta.fov.mpp)
    context_ok = meta.fov.context_mpp is None or (
        (meta.fov.context_size, meta.fov.context_mpp) == (fov.context_size, fov.context_mpp))
    if theirs != mine or not context_ok:
        msg = (f"{teacher}:fov: expected the stage's target view {fov.size} px at {fov.mpp} um/px"
               f" (context {fov.context_size} px at {fov.context_mpp}). Received: {meta.fov}")
        raise ConfigError(msg, path=teacher)


class SoftTargetBatches(SeededBatches):
    """Batches of labelled patches (one-hot, from ``manual``) and teacher-labelled tissue patches (soft), in
    that order.

    Batch ``b`` of epoch ``e``: the manual part is ``manual[b]`` (its own seeded draw), the soft part comes
    from ``rng([seed, e, b])``; a resumed epoch draws the interrupted run's batches. Holds paths only.
    """

    def __init__(
        self, manual: PatchDataset, cells: Mapping[str, TissueCells], labels: Mapping[str, Path],
        teacher: str | Path, *, soft_size: int, num_classes: int, seed: int,
        augment: Callable[..., Any] | None = None, **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not cells:
            msg = "soft targets: no training slide with tissue to draw patches from"
            raise ConfigError(msg)
        self.manual, self.labels = manual, dict(labels)
        self.teacher = str(teacher)
        self.soft_size, self.num_classes, self.seed, self.augment = soft_size, num_classes, seed, augment
        self.steps, self.epoch = manual.steps, 0
        self.pool = TissueCentres(cells)
        self._readers: dict[str, Any] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.manual.set_epoch(epoch)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.manual.on_epoch_end()

    def __getitem__(self, batch: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        x, y = self.manual[batch]
        y = {k: onehot(v, self.num_classes) for k, v in y.items()}
        if self.soft_size:
            soft_x, soft_y = self.soft_batch(np.random.default_rng([self.seed, self.epoch, batch]))
            x = {k: np.concatenate([x[k], soft_x[k]]) for k in x}
            y = {k: np.concatenate([y[k], soft_y[k]]) for k in y}
        return x, y

    def soft_batch(self, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``soft_size`` tissue patches: the student's (colour-augmented, turned) views and their targets."""
        fov = self.manual.fov
        teacher, meta = load_model_cached(self.teacher)
        views: dict[str, list[np.ndarray]] = {"target": [], "context": []}
        manual: dict[str, list[np.ndarray]] = {"final": [], "context": []}
        for slide_id, centre in self.pool.draw(self.soft_size, rng):
            slide, labels = self._open(slide_id)
            views["target"].append(slide.read_at_center(centre, (fov.size,) * 2, fov.mpp))
            manual["final"].append(self._labels_at(labels, centre, fov.size, fov.mpp, slide.mpp))
            if fov.context_mpp is not None:
                size, mpp = fov.context_size, fov.context_mpp
                views["context"].append(slide.read_at_center(centre, (size, size), mpp))
                manual["context"].append(self._labels_at(labels, centre, size, mpp, slide.mpp))
        inputs = {k: np.stack(v).astype(np.float32) for k, v in views.items()
                  if v and (k == "target" or meta.fov.context_mpp is not None)}
        output = teacher.predict_on_batch(inputs)
        targets = {"final": overlay_manual(np.asarray(output["final"], np.float32), np.stack(manual["final"]),
                                           self.num_classes)}
        if views["context"]:
            context = np.stack(manual["context"])
            teacher_context = output.get("context") if isinstance(output, dict) else None
            targets["context"] = (onehot(context, self.num_classes) if teacher_context is None else
                                  overlay_manual(np.asarray(teacher_context, np.float32), context,
                                                 self.num_classes))
        return self._student_views(views, targets, rng)

    def _student_views(
        self, views: dict[str, list[np.ndarray]], targets: dict[str, np.ndarray], rng: np.random.Generator,
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        has_context = bool(views["context"])
        colour_rng, turn_rng = rng.spawn(2)  # the turns do not depend on which colour presets ran
        x: dict[str, list[np.ndarray]] = {"target": [], "context": []}
        y: dict[str, list[np.ndarray]] = {k: [] for k in targets}
        for i, image in enumerate(views["target"]):
            context = views["context"][i] if has_context else None
            if self.augment is not None:
                blank = np.zeros(image.shape[:2], np.uint8)
                image, _, context, _ = self.augment(
                    image, blank, context, None if context is None else np.zeros(context.shape[:2], np.uint8),
                    rng=colour_rng)
            arrays = [image, targets["final"][i]] + ([context, targets["context"][i]] if has_context else [])
            arrays = turn(arrays, turn_rng)
            x["target"].append(arrays[0])
            y["final"].append(arrays[1])
            if has_context:
                x["context"].append(arrays[2])
                y["context"].append(arrays[3])
        return ({k: np.stack(v).astype(np.float32) for k, v in x.items() if v},
                {k: np.stack(v).astype(np.float32) for k, v in y.items()})

    def _labels_at(self, labels: Any, centre: tuple[float, float], size: int, mpp: float,
                   slide_mpp: float) -> np.ndarray:
        if labels is None:
            return np.full((size, size), 255, np.uint8)
        return read_labels_at_center(labels, centre, (size, size), mpp, slide_mpp)

    def _open(self, slide_id: str) -> tuple[Any, Any]:
        if slide_id not in self._readers:
            from hookseg.slides import open_slide

            cells = self.pool.cells[slide_id]
            labels = self.labels.get(slide_id)
            self._readers[slide_id] = (open_slide(cells.path, mpp=cells.mpp),
                                       None if labels is None else open_labels(labels))
        return self._readers[slide_id]


def colour_presets(presets: Sequence[str]) -> list[str]:
    """The presets that only recolour (no warp, crop or flip, no drawn bad region): what the teacher-labelled
    patches get, since the teacher's target would not follow a warp or a relabelled region."""
    from hookseg.augment import PairedAugment

    pipelines = {p: PairedAugment([p]).pipeline for p in presets}
    return [p for p in presets if pipelines[p].geometry is None and not pipelines[p].relabels]


def check_colour_presets(presets: Sequence[str], option: str = "--soft-augment") -> list[str]:
    """``presets`` unchanged when none of them warps, crops or flips; else a one-line error naming them."""
    warping = sorted(set(presets) - set(colour_presets(presets)))
    if warping:
        msg = (f"{option}: expected colour-only presets (a warp or a drawn bad region would not follow the "
               f"teacher's target). Received: {warping}")
        raise ConfigError(msg)
    return list(presets)


def soft_batches(
    manual: PatchDataset, config: StageConfig, manifest: Manifest, labels: Mapping[str, Path],
    teacher: str | Path, soft_share: float, num_classes: int, soft_augment: Sequence[str] | None = None,
) -> SoftTargetBatches:
    """Wrap a stage's manual training batches: ``soft_share`` of each batch becomes teacher-labelled tissue
    patches from every ``train`` slide of the manifest (the batch size stays the stage's). Their presets are
    ``soft_augment`` (colour-only), by default the colour presets of the stage's own."""
    from hookseg.train.augment_hook import build_augment

    if not 0.0 <= soft_share < 1.0:
        msg = f"--soft-share: expected a share of the batch in [0, 1). Received: {soft_share}"
        raise ConfigError(msg)
    check_teacher_view(teacher, config.fov)
    batch = config.train.batch_size
    soft_size = int(round(batch * soft_share))
    if soft_size >= batch:
        msg = f"--soft-share: {soft_share} of a batch of {batch} leaves no manual patch. Expected less"
        raise ConfigError(msg)
    manual.batch_size = batch - soft_size
    cells = tissue_cells(manifest.select(["train"], option="soft targets (training slides)"),
                         config.tissue_params())
    presets = (colour_presets(config.train.augment) if soft_augment is None
               else check_colour_presets(soft_augment))
    augment = build_augment(config.with_train(augment=presets))
    log.info("soft targets from %s: %d of %d patches per batch, %d training slides, colour presets %s",
             teacher, soft_size, batch, len(cells), presets)
    return SoftTargetBatches(manual, cells, labels, teacher, soft_size=soft_size, num_classes=num_classes,
                             seed=config.train.seed, augment=augment)

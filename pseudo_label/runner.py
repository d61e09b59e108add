"""Label every training slide of a cohort with model k-1: one Ray task per slide, failures reported.

Without calibration, one pass: every slide labelled at the phase's threshold. With a ``target_precision``,
two: pass 1 predicts the held-out (val) slides, counts their annotated pixels' precision by class and
probability, and chooses per-class thresholds (``pseudo_label.calibrate``, written to
``calibration.json``); pass 2 labels every slide with them, reusing pass 1's probabilities of the val slides
instead of predicting them again.

A slide whose labels exist (its summary JSON is written last) is skipped, so a rerun resumes; so is pass 1
when ``calibration.json`` holds the same options. Both only while ``provenance.json`` (the model's hash,
the options, the splits) is the same: labels another model or other options made are removed first. A
slide that fails after retries is reported in ``failures.json`` and left out; the other slides' labels are
kept and the phase goes on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hookseg.cohort import Manifest
from hookseg.cohort.labels import CLASS_MAP_FILE, write_folder_class_map
from hookseg.infer.provenance import PROVENANCE, model_hashes
from hookseg.io import write_json
from hookseg.model_meta import read_meta
from hookseg.parallel import TaskFailure

log = logging.getLogger(__name__)

MIN_SUPPORT = 1000  # held-out pixels a calibrated threshold must rest on


@dataclass(frozen=True)
class LabelOptions:
    """How a phase labels: ``threshold`` (the floor when calibrating) and the three switches."""

    threshold: float
    target_precision: float | None = None  # None: one threshold for every class (Table 8)
    border_um: float = 0.0
    tta: int = 0
    min_support: int = MIN_SUPPORT


def _model(model_path: str, tta: int) -> tuple[Any, Any]:
    from hookseg.model_io import load_model_cached
    from pseudo_label.tta import with_tta

    model, meta = load_model_cached(model_path)
    return with_tta(model, tta), meta


def label_task(model_path: str, record, threshold: Any, out: str, border_um: float = 0.0,
               tta: int = 0) -> dict[str, Any]:
    """Label one slide with the (per-process cached) model and the class map saved in it."""
    from pseudo_label.labeller import label_slide

    model, meta = _model(model_path, tta)
    return label_slide(model, meta, record, threshold, Path(out), border_um=border_um)


def calibrate_task(model_path: str, record, out: str, border_um: float = 0.0,
                   tta: int = 0) -> tuple[np.ndarray, float]:
    """Pass 1 on one held-out slide: its histogram; its probabilities stay beside ``out`` for pass 2."""
    from pseudo_label.labeller import calibrate_slide

    model, meta = _model(model_path, tta)
    return calibrate_slide(model, meta, record, Path(out), border_um=border_um)


def label_cohort(
    model_path: Path, manifest: Manifest, threshold: float, out_dir: Path, *,
    splits: tuple[str, ...] = ("train", "val"), workers: int | None = None, classes_path: str | None = None,
    options: LabelOptions | None = None,
) -> tuple[dict[str, Path], list[TaskFailure]]:
    """Label rasters ``out_dir/<slide_id>.tiff`` for the slides of ``splits``; returns them and the failures.

    The class map is the model's own; ``classes_path`` (the CLI's ``--classes``) is only checked against it.
    ``options`` (default: ``threshold`` alone) switch on calibration, the border band and TTA.
    """
    from hookseg.parallel import run_slides

    options = options or LabelOptions(threshold)
    out_dir = out_dir.resolve()  # Ray workers (another node, another working folder) get absolute paths
    if options.threshold != threshold:
        msg = f"label_cohort: expected options.threshold {options.threshold}. Received: threshold {threshold}"
        raise ValueError(msg)
    _check_classes(model_path, classes_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    class_map = read_meta(model_path).class_map
    write_folder_class_map(out_dir, class_map)  # the next stage trains with it
    made_by = {**model_hashes(model_path), "options": asdict(options), "splits": list(splits)}
    _forget_other_runs(out_dir, made_by)
    records = manifest.split(*splits)
    rasters = {r.slide_id: out_dir / f"{r.slide_id}.tiff" for r in records}
    todo = [r for r in records if not rasters[r.slide_id].with_suffix(".json").exists()]
    model = str(model_path.resolve())
    thresholds: Any = options.threshold
    if options.target_precision is not None:
        thresholds = calibrate(model, manifest, out_dir, options, class_map.names, workers)["thresholds_list"]
    args = [(model, r, thresholds, str(rasters[r.slide_id]), options.border_um, options.tta) for r in todo]
    _, failures = run_slides(label_task, [r.slide_id for r in todo], args, workers=workers)
    _drop_scratch(out_dir)
    failed = {f.item for f in failures}
    write_json(out_dir / "failures.json", [f.__dict__ for f in failures])
    done = {sid: path for sid, path in rasters.items() if sid not in failed and path.exists()}
    log.info("%d slides labelled, %d failed", len(done), len(failures))
    return done, failures


def _forget_other_runs(out_dir: Path, made_by: dict[str, Any]) -> None:
    """Remove the labels, summaries and calibration that another model or other options left in ``out_dir``,
    then record ``made_by``: a rerun resumes only its own work."""
    recorded_path = out_dir / PROVENANCE
    try:
        recorded = json.loads(recorded_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        recorded = None
    if recorded != made_by:
        stale = [*out_dir.glob("*.tiff"), *out_dir.glob("*.json"), *out_dir.glob(".*.npy*")]
        for path in stale:
            if path.name != CLASS_MAP_FILE:
                path.unlink(missing_ok=True)
        if stale:
            log.info("%s: labels of another model or other options removed", out_dir)
    write_json(recorded_path, made_by)


def calibrate(
    model: str, manifest: Manifest, out_dir: Path, options: LabelOptions, class_names: tuple[str, ...],
    workers: int | None,
) -> dict[str, Any]:
    """Pass 1: per-class thresholds from the held-out slides, in ``out_dir/calibration.json`` (reused).

    A held-out slide that fails here is left out of the calibration and listed in it (``failed``); pass 2
    labels it again, and reports it if it fails there too.
    """
    from hookseg.errors import ConfigError
    from hookseg.parallel import run_slides
    from pseudo_label.calibrate import choose_thresholds, empty_histogram
    from pseudo_label.labeller import HELD_OUT_SPLITS

    path = out_dir / "calibration.json"
    wanted = asdict(options)
    if path.exists():
        saved = json.loads(path.read_text())
        if saved.get("options") == wanted:
            return saved
    held_out = [r for r in manifest.split(*HELD_OUT_SPLITS) if r.annotations is not None]
    args = [(model, r, str(out_dir / f"{r.slide_id}.tiff"), options.border_um, options.tta) for r in held_out]
    results, failures = run_slides(calibrate_task, [r.slide_id for r in held_out], args, workers=workers)
    hist = empty_histogram(len(class_names))
    for slide_hist, _ in results.values():
        hist += np.asarray(slide_hist, np.int64)
    if not hist.any():
        msg = (f"target_precision: expected annotated held-out slides (split {'/'.join(HELD_OUT_SPLITS)}) to "
               f"calibrate on. Received: {len(held_out)} annotated, none with annotated pixels")
        raise ConfigError(msg)
    chosen = choose_thresholds(hist, class_names, options.threshold, options.target_precision,
                               options.min_support)
    predict_s = sum(seconds for _, seconds in results.values())
    record = {"options": wanted, "held_out_slides": sorted(results), **chosen.to_json(),
              "thresholds_list": list(chosen.thresholds), "predict_s": round(predict_s, 2),
              "failed": [f.__dict__ for f in failures]}
    write_json(path, record)
    return record


def _drop_scratch(out_dir: Path) -> None:
    """Probabilities kept by pass 1 for slides pass 2 did not label (val outside ``splits``, failures)."""
    for scratch in out_dir.glob(".*.probabilities.npy*"):
        scratch.unlink(missing_ok=True)


def _check_classes(model_path: Path, classes_path: str | None) -> None:
    """A class map given beside the model must be the model's own: labels always use the model's."""
    if not classes_path:
        return
    from hookseg.annotations import ClassMap
    from hookseg.errors import ConfigError

    saved, given = read_meta(model_path).class_map, ClassMap.from_yaml(classes_path)
    if (saved.names, saved.ignore_id) != (given.names, given.ignore_id):
        msg = (f"{classes_path}:classes: expected the classes of {model_path}, {list(saved.names)} (ignore "
               f"{saved.ignore_id}). Received: {list(given.names)} (ignore {given.ignore_id})")
        raise ConfigError(msg, path=classes_path)

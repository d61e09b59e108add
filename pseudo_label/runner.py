"""Label every training slide of a cohort with model k-1: one Ray task per slide, failures reported.

A slide whose labels exist (its summary JSON is written last) is skipped, so a rerun resumes. A slide that
fails after retries is reported in ``failures.json`` and left out; the other slides' labels are kept and
the phase goes on.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hookseg.cohort import Manifest
from hookseg.cohort.labels import write_folder_class_map
from hookseg.io import write_json
from hookseg.model_meta import read_meta
from hookseg.parallel import TaskFailure

log = logging.getLogger(__name__)


def label_task(model_path: str, record, threshold: float, out: str) -> dict[str, Any]:
    """Label one slide with the (per-process cached) model and the class map saved in it."""
    from hookseg.model_io import load_model_cached
    from pseudo_label.labeller import label_slide

    model, meta = load_model_cached(model_path)
    return label_slide(model, meta, record, threshold, Path(out))


def label_cohort(
    model_path: Path, manifest: Manifest, threshold: float, out_dir: Path, *,
    splits: tuple[str, ...] = ("train", "val"), workers: int | None = None, classes_path: str | None = None,
) -> tuple[dict[str, Path], list[TaskFailure]]:
    """Label rasters ``out_dir/<slide_id>.tiff`` for the slides of ``splits``; returns them and the failures.

    The class map is the model's own; ``classes_path`` (the CLI's ``--classes``) is only checked against it.
    """
    _check_classes(model_path, classes_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_folder_class_map(out_dir, read_meta(model_path).class_map)  # the next stage trains with it
    records = manifest.split(*splits)
    rasters = {r.slide_id: out_dir / f"{r.slide_id}.tiff" for r in records}
    todo = [r for r in records if not rasters[r.slide_id].with_suffix(".json").exists()]
    args = [(str(model_path.resolve()), r, threshold, str(rasters[r.slide_id])) for r in todo]
    from hookseg.parallel import run_slides

    _, failures = run_slides(label_task, [r.slide_id for r in todo], args, workers=workers)
    failed = {f.item for f in failures}
    write_json(out_dir / "failures.json", [f.__dict__ for f in failures])
    done = {sid: path for sid, path in rasters.items() if sid not in failed and path.exists()}
    log.info("%d slides labelled, %d failed", len(done), len(failures))
    return done, failures


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

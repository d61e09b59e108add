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
from hookseg.io import write_json
from hookseg.parallel import TaskFailure

log = logging.getLogger(__name__)


def label_task(model_path: str, record, threshold: float, out: str, classes_path: str | None) -> dict[str, Any]:  # noqa: ANN001
    from hookseg.annotations import ClassMap  # noqa: PLC0415
    from hookseg.model_io import load_model_cached  # noqa: PLC0415
    from pseudo_label.labeller import label_slide  # noqa: PLC0415

    model, meta = load_model_cached(model_path)
    class_map = ClassMap.from_yaml(classes_path) if classes_path else ClassMap.default()
    return label_slide(model, meta, record, threshold, Path(out), class_map)


def label_cohort(
    model_path: Path, manifest: Manifest, threshold: float, out_dir: Path, *,
    splits: tuple[str, ...] = ("train", "val"), workers: int | None = None, classes_path: str | None = None,
) -> tuple[dict[str, Path], list[TaskFailure]]:
    """Label rasters ``out_dir/<slide_id>.tiff`` for the slides of ``splits``; returns them and the failures."""
    out_dir.mkdir(parents=True, exist_ok=True)
    records = manifest.split(*splits)
    rasters = {r.slide_id: out_dir / f"{r.slide_id}.tiff" for r in records}
    todo = [r for r in records if not rasters[r.slide_id].with_suffix(".json").exists()]
    args = [(str(model_path.resolve()), r, threshold, str(rasters[r.slide_id]), classes_path) for r in todo]
    from hookseg.parallel import run_slides  # noqa: PLC0415

    _, failures = run_slides(label_task, [r.slide_id for r in todo], args, workers=workers)
    failed = {f.item for f in failures}
    write_json(out_dir / "failures.json", [f.__dict__ for f in failures])
    done = {sid: path for sid, path in rasters.items() if sid not in failed and path.exists()}
    log.info("%d slides labelled, %d failed", len(done), len(failures))
    return done, failures

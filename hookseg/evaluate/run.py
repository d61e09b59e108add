"""``evaluate``: predict a manifest's slides (reusing finished predictions), count, tabulate, log.

The class map is the model's own (its ``hookseg.json``). When every slide's prediction is finished, scoring
imports neither Keras nor TensorFlow: only a missing prediction loads the model.

Outputs in ``out``: ``metrics.json`` (DVC metrics: per cohort, mean IoU and per-class scores, each also
``*_raw``: before post-processing), ``slides.json`` (per-slide confusions for ``hookseg report``'s paired
bootstrap), ``tables.csv`` (per class x stain/scanner/source with bootstrap CIs),
``plots/threshold_*.{csv,png}``, ``predictions/<slide_id>/`` (with ``counts.json``) and ``report.md``.
Every split asked for is its own cohort (``--split test,new_domain``: test and new_domain).
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hookseg.cohort import Manifest
from hookseg.evaluate.counts import Counts
from hookseg.evaluate.fine import fine_classes, fine_markdown, fine_rows, recall_by_label
from hookseg.evaluate.per_slide import SLIDES_FILE, write_slides
from hookseg.evaluate.plots import write_threshold_curves
from hookseg.evaluate.slide_counts import COUNTS_FILE, counts_path, slide_counts
from hookseg.evaluate.tables import group_rows, mlflow_metrics, pooled, summary
from hookseg.infer.outputs import SlideOutputs
from hookseg.infer.params import InferParams
from hookseg.io import atomic_path, atomic_write_text, write_json
from hookseg.model_meta import read_meta

log = logging.getLogger(__name__)


def predict_missing(model_path: Path, records, out: Path, params: InferParams, workers: int | None) -> list:
    """Predict every record without a prediction this model made with these settings; returns the failures.

    As ``hookseg predict`` does (``SlideBatch``): a slide is skipped only when its ``provenance.json``
    matches, so scoring another model into the same folder redoes the slides (and drops their counts)
    instead of scoring the first model's outputs.
    """
    from hookseg.infer.batch import SlideBatch

    batch = SlideBatch(model_path, [(r.slide_id, r.path, r.mpp) for r in records], out, params)
    if not batch.todo:
        return []
    return batch.run(workers, stale=(COUNTS_FILE,))


def evaluate(
    model_path: Path, manifest: Manifest, splits: Sequence[str], out: Path, params: InferParams,
    *, workers: int | None = None, log_mlflow: bool = True, bootstrap_samples: int = 1000,
    run_name: str = "evaluate",
) -> dict[str, Any]:
    class_map = read_meta(model_path).class_map
    predictions = out / "predictions"
    records = manifest.split(*splits)
    failures = predict_missing(model_path, records, predictions, params, workers)
    failed = {f.item for f in failures}
    names = list(class_map.names)
    per_slide: dict[str, Counts] = {}
    for record in records:
        if record.slide_id in failed:
            continue
        per_slide[record.slide_id] = _counts(record, predictions / record.slide_id, class_map, params)
    tags = {r.slide_id: {"stain": r.stain, "scanner": r.scanner, "source": r.source} for r in records}
    scored = [r for r in records if r.slide_id in per_slide]
    # one cohort per split asked for: `--split val` reports val, never a "test" that holds val slides
    cohorts = {split: [r.slide_id for r in scored if r.split == split] for split in splits}
    cohort_of = {s: cohort for cohort, ids in cohorts.items() for s in ids}
    classes_of = fine_classes(sorted({n for c in per_slide.values() for n in c.fine or {}}), class_map)
    write_slides(out / SLIDES_FILE, names, per_slide, cohort_of, tags, classes_of)
    metrics: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    fine: dict[str, list[dict[str, Any]]] = {}
    plots = out / "plots"
    for cohort, ids in cohorts.items():
        if not ids:
            continue
        slides = {s: per_slide[s] for s in ids}
        total = pooled(list(slides.values()))
        metrics[cohort] = {"slides": len(ids), **summary(total, names)}
        fine[cohort] = fine_rows(total.fine or {}, classes_of, names)
        if fine[cohort]:
            metrics[cohort]["fine_recall"] = recall_by_label(fine[cohort])
        rows += group_rows(slides, tags, names, cohort=cohort, samples=bootstrap_samples)
        write_threshold_curves(total, names, plots, cohort)
    if failures:
        metrics["failed_slides"] = sorted(failed)
    write_json(out / "metrics.json", metrics)
    _write_rows(out / "tables.csv", rows)
    atomic_write_text(out / "report.md", _report(metrics, rows, fine, names))
    if log_mlflow:
        _log(metrics, rows, out, run_name)
    return metrics


def cohort_names(metrics: dict[str, Any]) -> list[str]:
    """The cohorts (splits) a ``metrics.json`` scored, in the order asked for."""
    return [k for k, v in metrics.items() if isinstance(v, dict) and "mean_iou" in v]


def _counts(record, folder: Path, class_map, params: InferParams) -> Counts:
    """The slide's cached counts, or counted now (also when the cache predates raw or fine-label counting)."""
    cached = counts_path(folder)
    if cached.exists():
        counts = Counts.from_dict(json.loads(cached.read_text()))
        fine_done = counts.fine is not None or record.ground_truth is None
        if counts.raw_confusion is not None and fine_done:
            return counts
    counts = slide_counts(record, SlideOutputs(folder), class_map, params)
    write_json(cached, counts.to_dict())
    return counts


def _write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
        if rows:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def _report(metrics: dict[str, Any], rows: list[dict[str, Any]], fine: dict[str, list[dict[str, Any]]],
            names: list[str]) -> str:
    lines = ["# Evaluation", ""]
    for cohort in cohort_names(metrics):
        m = metrics[cohort]
        head = (f"## {cohort} ({m['slides']} slides): mean IoU {m['mean_iou']:.3f} "
                f"(before post-processing {m['mean_iou_raw']:.3f})")
        lines += [head, "",
                  "| group | value | slides | class | IoU [95% CI] | raw IoU | Dice | precision | recall "
                  "| AUC |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            if r["cohort"] == cohort:
                lines.append(f"| {r['group']} | {r['value']} | {r['slides']} | {r['class']} | {r['iou']:.3f} "
                             f"[{r['iou_ci_low']:.3f}, {r['iou_ci_high']:.3f}] | {r['iou_raw']:.3f} | "
                             f"{r['dice']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | {r['auc']:.3f} |")
        lines.append("")
        if fine.get(cohort):
            lines += [f"### {cohort}: where each fine ground-truth label went (final labels, pooled)", "",
                      *fine_markdown(fine[cohort], names), ""]
    return "\n".join(lines)


def _log(metrics: dict[str, Any], rows: list[dict[str, Any]], out: Path, run_name: str) -> None:
    import mlflow

    from hookseg.tracking import start_run

    with start_run(stage=run_name, config={"out": str(out)}):
        flat = mlflow_metrics(rows)
        for cohort in cohort_names(metrics):
            flat[f"mean_iou.{cohort}"] = metrics[cohort]["mean_iou"]
            flat[f"mean_iou_raw.{cohort}"] = metrics[cohort]["mean_iou_raw"]
            for label, recall in metrics[cohort].get("fine_recall", {}).items():
                flat[f"fine_recall.{label}.{cohort}".replace(" ", "_")] = recall
        mlflow.log_metrics(flat)
        mlflow.log_artifact(str(out / "tables.csv"))
        mlflow.log_artifact(str(out / "report.md"))
        for png in sorted((out / "plots").glob("*.png")):
            mlflow.log_artifact(str(png), artifact_path="plots")

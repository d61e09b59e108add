"""Build a demo cohort folder: slides in parallel worker processes, resume, then the manifest.

Layout of OUT::

    manifest.csv          one row per slide (hookseg.cohort.read_manifest validates it)
    codes.csv             fine label codes of the ground-truth rasters (group, GT_code, color)
    cohort.json           the parameters and, per slide, score, sizes, class fractions and timings
    slides/ID.tiff        pyramidal JPEG TIFF at the scanner's native mpp
    ground_truth/ID.tiff  pyramidal zlib TIFF of fine label codes at 1.0 um/px
    annotations/ID.geojson  QuPath GeoJSON: 2-3 completely annotated regions, fine labels (written for every
                          slide; the manifest lists none for the unlabelled pool's training slides)
    .done/ID.json         per-slide marker, written last: a rerun skips slides whose marker matches
"""

from __future__ import annotations

import csv
import io
import json
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from hookseg.io import atomic_write_text, write_json
from hookseg.synth.cohort import SlideSpec, generate_slide, is_done, plan_cohort
from hookseg.synth.labels import write_code_table
from hookseg.synth.scanner import TRAINING_SCANNERS
from hookseg.synth.stain import IHC_STAINS

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = ("slide_id", "path", "stain", "scanner", "source", "split", "patient_id", "annotations",
                    "mpp", "ground_truth")


def _worker_init() -> None:
    """One thread per worker process: the pool already uses every core."""
    import cv2

    cv2.setNumThreads(1)


def _run(spec: SlideSpec, out: str) -> dict:
    return generate_slide(spec, out)


def generate_cohort(
    out: str | Path,
    *,
    slides: int = 24,
    new_domain: int = 6,
    unlabelled: int = 0,
    size: int = 8192,
    seed: int = 0,
    stains: tuple[str, ...] = IHC_STAINS,
    scanners: tuple[str, ...] = TRAINING_SCANNERS,
    workers: int | None = None,
    preview: bool = False,
) -> Path:
    """Generate (or finish) the cohort in ``out``; returns the manifest path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    specs = plan_cohort(slides, new_domain, n_unlabelled=unlabelled, size_px=size, seed=seed, stains=stains,
                        scanners=scanners)
    write_code_table(out / "codes.csv")
    pending = [s for s in specs if not is_done(s, out)]
    log.info("%d slides planned, %d to generate, in %s", len(specs), len(pending), out)
    workers = max(1, min(workers or os.cpu_count() or 1, len(pending) or 1))
    start = time.perf_counter()
    if workers == 1:
        for spec in pending:
            generate_slide(spec, out)
    else:
        # Largest slides first, so the last one does not run alone.
        pending.sort(key=lambda s: -(s.size_um / s.mpp) ** 2)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init) as pool:
            futures = {pool.submit(_run, spec, str(out)): spec for spec in pending}
            for future in as_completed(futures):
                future.result()  # a failed slide raises here; finished slides stay for the rerun
    elapsed = time.perf_counter() - start
    records = {s.slide_id: json.loads(s.paths(out)["done"].read_text(encoding="utf-8")) for s in specs}
    manifest = write_manifest(out, specs)
    write_json(out / "cohort.json", {
        "parameters": {"slides": slides, "new_domain": new_domain, "unlabelled": unlabelled, "size": size,
                       "seed": seed, "stains": list(stains), "scanners": list(scanners)},
        "generated": len(pending),
        "workers": workers,
        "seconds": round(elapsed, 2),
        "slides": records,
    })
    if preview:
        from hookseg.synth.preview import contact_sheet

        contact_sheet(manifest, out / "contact_sheet.png")
    return manifest


def write_manifest(out: Path, specs: list[SlideSpec]) -> Path:
    """manifest.csv with paths relative to ``out``; validated with ``read_manifest`` before it is kept."""
    from hookseg.cohort import read_manifest

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    for spec in specs:
        paths = spec.paths(out)
        writer.writerow([
            spec.slide_id, paths["slide"].relative_to(out).as_posix(), spec.stain, spec.scanner, spec.source,
            spec.split, spec.patient_id,
            paths["annotations"].relative_to(out).as_posix() if spec.annotated else "", spec.mpp,
            paths["ground_truth"].relative_to(out).as_posix(),
        ])
    path = out / "manifest.csv"
    atomic_write_text(path, buffer.getvalue())
    read_manifest(path)
    return path

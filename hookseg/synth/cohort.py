"""The demo cohort: a plan of patients and slides, and the files of each slide.

Design (after the paper's Table 4): training domains are the IHC stains x data sources DS1-DS6, each source
scanned on one scanner (DS1-2 on A, DS3-4 on B, DS5-6 on C); the new domain is H&E from DS7 on scanner M and
appears only in split ``new_domain``. Patients are split as a whole; a few have an IHC panel (several stains
of serial sections: same architecture, same tumour phenotype, their own bad regions and staining run).

The unlabelled pool (paper: pseudo-labels for "the entire dataset available (both with and without
annotations)"): with ``n_unlabelled`` > 0 the annotated slides come only from the domains outside
``unlabelled_stains`` and ``unlabelled_scanners``, and the pool's slides come from those domains: half of its
patients are training slides without annotations (the phases' only view of those domains), half are test
slides with ground truth, so the test split measures whether the loop adapts to them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hookseg.cohort import assign_patient_splits
from hookseg.errors import ConfigError
from hookseg.io import write_json
from hookseg.slides import write_pyramid
from hookseg.synth.annotate import choose_regions, region_annotations
from hookseg.synth.artefacts import ARTEFACT_KINDS, draw_artefacts
from hookseg.synth.labels import FINE_LABELS
from hookseg.synth.layout import make_layout
from hookseg.synth.scanner import NEW_DOMAIN_SCANNER, TRAINING_SCANNERS, get_scanner
from hookseg.synth.stain import (
    IHC_STAINS,
    LABS,
    NEW_DOMAIN_SOURCE,
    SOURCE_SCANNER,
    TRAINING_SOURCES,
    draw_scores,
    slide_stain,
)

log = logging.getLogger(__name__)

REFERENCE_MPP = 0.5  # ``size_px`` counts pixels at this resolution: 8192 px = 4.1 mm whatever the scanner
SPLIT_FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}
UNLABELLED_FRACTIONS = {"train": 0.5, "test": 0.5}  # of the pool's patients; its train slides: no annotations
UNLABELLED_STAINS, UNLABELLED_SCANNERS = ("Ki67",), ("C",)
SLIDES_DIR, GT_DIR, ANNOTATIONS_DIR, DONE_DIR = "slides", "ground_truth", "annotations", ".done"


@dataclass(frozen=True)
class SlideSpec:
    """Everything that determines one slide's files (equal specs give identical pixels)."""

    slide_id: str
    patient_id: str
    stain: str
    scanner: str
    source: str
    split: str
    seed: int
    layout_seed: int
    score_seed: int
    size_um: float
    artefacts: tuple[str, ...]
    texture_seed: int = 0
    annotated: bool = True  # False: a training slide of the unlabelled pool (its annotations stay unlisted)

    @property
    def mpp(self) -> float:
        return get_scanner(self.scanner).mpp

    def paths(self, out: Path) -> dict[str, Path]:
        return {
            "slide": out / SLIDES_DIR / f"{self.slide_id}.tiff",
            "ground_truth": out / GT_DIR / f"{self.slide_id}.tiff",
            "annotations": out / ANNOTATIONS_DIR / f"{self.slide_id}.geojson",
            "done": out / DONE_DIR / f"{self.slide_id}.json",
        }

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "artefacts": list(self.artefacts)}


def plan_cohort(
    n_slides: int = 24,
    n_new_domain: int = 6,
    *,
    n_unlabelled: int = 0,
    size_px: int = 8192,
    seed: int = 0,
    stains: tuple[str, ...] = IHC_STAINS,
    scanners: tuple[str, ...] = TRAINING_SCANNERS,
    unlabelled_stains: tuple[str, ...] = UNLABELLED_STAINS,
    unlabelled_scanners: tuple[str, ...] = UNLABELLED_SCANNERS,
) -> list[SlideSpec]:
    """The cohort's slides: ``n_slides`` annotated train/val/test IHC slides, ``n_unlabelled`` slides of the
    unlabelled pool (train without annotations, and test) and ``n_new_domain`` H&E slides."""
    _check(n_slides, n_new_domain, size_px, stains, scanners)
    rng = np.random.default_rng([seed, 1])
    # Consecutive patients go to different scanners: DS1 (A), DS3 (B), DS5 (C), DS2 (A), ...
    sources = sorted((s for s in TRAINING_SOURCES if SOURCE_SCANNER[s] in scanners),
                     key=lambda s: (TRAINING_SOURCES.index(s) % 2, TRAINING_SOURCES.index(s)))
    size_um = size_px * REFERENCE_MPP
    annotated_stains, annotated_sources = stains, sources
    if n_unlabelled > 0:
        annotated_stains = tuple(s for s in stains if s not in unlabelled_stains)
        annotated_sources = [s for s in sources if SOURCE_SCANNER[s] not in unlabelled_scanners]
        _check_pool(stains, sources, annotated_stains, annotated_sources, unlabelled_stains,
                    unlabelled_scanners)
    patients = _annotated_patients(rng, n_slides, annotated_stains, annotated_sources)
    slide_patients = [p for p, _, chosen in patients for _ in chosen]
    splits = _splits(slide_patients, [src for _, src, chosen in patients for _ in chosen], seed)
    pool = _pool_patients(n_unlabelled, len(patients), stains, sources, unlabelled_stains,
                          unlabelled_scanners)
    pool_splits = assign_patient_splits([p for p, _, _ in pool], UNLABELLED_FRACTIONS, seed=seed)
    specs: list[SlideSpec] = []
    index = 0
    for number, (patient, source, chosen) in enumerate(patients):
        for stain in chosen:
            specs.append(_spec(index, patient, stain, source, splits[index], seed, number, size_um))
            index += 1
    for j, ((patient, source, (stain,)), split) in enumerate(zip(pool, pool_splits, strict=True)):
        spec = _spec(index, patient, stain, source, split, seed, len(patients) + j, size_um)
        specs.append(dataclasses.replace(spec, annotated=split != "train"))
        index += 1
    first_new = len(patients) + len(pool)
    for j in range(n_new_domain):
        patient = f"P{first_new + j + 1:03d}"
        specs.append(_spec(index, patient, "HE", NEW_DOMAIN_SOURCE, "new_domain", seed, first_new + j,
                           size_um))
        index += 1
    return specs


def _annotated_patients(rng: np.random.Generator, n_slides: int, stains: tuple[str, ...],
                        sources: list[str]) -> list[tuple[str, str, list[str]]]:
    """(patient id, source, stains) until ``n_slides`` slides; every fourth patient has an IHC panel."""
    patients: list[tuple[str, str, list[str]]] = []
    planned, stain_turn = 0, 0
    while planned < n_slides:
        k = len(patients)
        panel = k % 4 == 1 and len(stains) > 1 and n_slides >= 8 and n_slides - planned >= 2
        if panel:
            n = int(min(n_slides - planned, rng.integers(2, len(stains) + 1)))
            chosen = [str(s) for s in rng.permutation(list(stains))[:n]]
        else:
            chosen = [stains[stain_turn % len(stains)]]
            stain_turn += 1
        patients.append((f"P{k + 1:03d}", sources[k % len(sources)], chosen))
        planned += len(chosen)
    return patients


def _pool_patients(
    n: int, first: int, stains: tuple[str, ...], sources: list[str], pool_stains: tuple[str, ...],
    pool_scanners: tuple[str, ...],
) -> list[tuple[str, str, list[str]]]:
    """One slide per patient of the unlabelled pool, in turn over the sources: any stain on a pool scanner,
    a pool stain elsewhere, so every pool domain appears."""
    patients = []
    turn = {True: 0, False: 0}
    for k in range(n):
        source = sources[k % len(sources)]
        on_pool_scanner = SOURCE_SCANNER[source] in pool_scanners
        choices = stains if on_pool_scanner else tuple(s for s in stains if s in pool_stains)
        patients.append((f"P{first + k + 1:03d}", source, [choices[turn[on_pool_scanner] % len(choices)]]))
        turn[on_pool_scanner] += 1
    return patients


def _spec(index: int, patient: str, stain: str, source: str, split: str, seed: int, patient_number: int,
          size_um: float) -> SlideSpec:
    scanner = NEW_DOMAIN_SCANNER if source == NEW_DOMAIN_SOURCE else SOURCE_SCANNER[source]
    # Bad regions: two kinds per slide in turn (so every kind appears in any 3 consecutive slides), and
    # sometimes a third.
    extra = np.random.default_rng([seed, 2, index])
    kinds = [ARTEFACT_KINDS[(2 * index) % 5], ARTEFACT_KINDS[(2 * index + 1) % 5]]
    if extra.random() < 0.3:
        kinds.append(ARTEFACT_KINDS[(2 * index + 2) % 5])
    return SlideSpec(
        slide_id=f"syn{index + 1:03d}-{stain}-{source}", patient_id=patient, stain=stain, scanner=scanner,
        source=source, split=split, seed=_seed(seed, 10, index), layout_seed=_seed(seed, 20, patient_number),
        score_seed=_seed(seed, 30, patient_number), size_um=size_um, artefacts=tuple(kinds),
        texture_seed=seed,
    )


def _seed(*key: int) -> int:
    return int(np.random.SeedSequence(list(key)).generate_state(1)[0])


def _splits(patients: list[str], sources: list[str], seed: int) -> list[str]:
    """Patient-level train/val/test; a cohort of >= 3 patients gets all three."""
    splits = assign_patient_splits(patients, SPLIT_FRACTIONS, seed=seed)
    order = list(dict.fromkeys(patients))
    if len(order) >= 3:
        for missing in [s for s in SPLIT_FRACTIONS if s not in splits]:
            counts = {s: splits.count(s) for s in SPLIT_FRACTIONS}
            donor = max(counts, key=counts.get)
            # move the donor split's patient with the fewest slides
            candidates = [p for p in order if splits[patients.index(p)] == donor]
            moved = min(candidates, key=patients.count)
            splits = [missing if p == moved else s for p, s in zip(patients, splits, strict=True)]
    return splits


def _check(n_slides: int, n_new: int, size_px: int, stains: tuple[str, ...],
           scanners: tuple[str, ...]) -> None:
    if n_slides < 1 or n_new < 0:
        msg = f"Need at least one training slide. Received: slides={n_slides}, new_domain={n_new}"
        raise ConfigError(msg)
    if size_px < 256:
        msg = f"Slide size must be at least 256 px (at {REFERENCE_MPP} mpp). Received: size={size_px}"
        raise ConfigError(msg)
    bad = [s for s in stains if s not in IHC_STAINS]
    if bad or not stains:
        msg = f"Training stains must be some of {list(IHC_STAINS)}. Received: stains={list(stains)}"
        raise ConfigError(msg)
    bad = [s for s in scanners if s not in TRAINING_SCANNERS]
    if bad or not scanners:
        msg = (f"Training scanners must be some of {list(TRAINING_SCANNERS)}. "
               f"Received: scanners={list(scanners)}")
        raise ConfigError(msg)


def _check_pool(
    stains: tuple[str, ...], sources: list[str], annotated_stains: tuple[str, ...],
    annotated_sources: list[str],
    pool_stains: tuple[str, ...], pool_scanners: tuple[str, ...],
) -> None:
    """The annotated slides need a domain outside the pool, and the pool one inside it."""
    pool_sources = [s for s in sources if SOURCE_SCANNER[s] in pool_scanners]
    if not annotated_stains or not annotated_sources or not (pool_sources or set(pool_stains) & set(stains)):
        msg = (f"unlabelled pool: expected stains/scanners outside it for the annotated slides and inside it "
               f"for the pool. Received: stains {list(stains)}, "
               f"scanners {sorted({SOURCE_SCANNER[s] for s in sources})}, "
               f"pool stains {list(pool_stains)}, pool scanners {list(pool_scanners)}")
        raise ConfigError(msg)


def is_done(spec: SlideSpec, out: Path) -> bool:
    """A slide is finished when its marker (written last) records the same spec and its files exist."""
    paths = spec.paths(out)
    try:
        recorded = json.loads(paths["done"].read_text(encoding="utf-8"))["spec"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return False
    files = ("slide", "ground_truth", "annotations")
    return recorded == spec.to_dict() and all(paths[k].is_file() for k in files)


def generate_slide(spec: SlideSpec, out: str | Path) -> dict:
    """Write one slide's image, ground truth and annotations (each atomically), then its marker."""
    from hookseg.annotations import write_annotations
    from hookseg.synth.render import SlideRenderer

    out = Path(out)
    paths = spec.paths(out)
    times: dict[str, float] = {}
    start = time.perf_counter()
    layout = make_layout(np.random.default_rng(spec.layout_seed), (spec.size_um, spec.size_um))
    bad = draw_artefacts(np.random.default_rng([spec.seed, 1]), layout, spec.artefacts)
    score = draw_scores(np.random.default_rng(spec.score_seed))[spec.stain]
    stain = slide_stain(np.random.default_rng([spec.seed, 2]), spec.stain, LABS[spec.source])
    scanner = get_scanner(spec.scanner)
    renderer = SlideRenderer(layout, stain, score, scanner, seed=spec.seed, texture_seed=spec.texture_seed,
                             pen_color=str(bad.get("pen_color", "blue")))
    times["prepare_s"] = time.perf_counter() - start
    write_pyramid(paths["slide"], renderer.size, renderer.tile, mpp=scanner.mpp, quality=scanner.jpeg_quality,
                  description=f"hookseg synthetic slide {spec.slide_id} ({spec.stain}, {spec.scanner})")
    times["image_s"] = time.perf_counter() - start - times["prepare_s"]
    fine = layout.fine()
    gh, gw = fine.shape
    write_pyramid(paths["ground_truth"], (gw, gh), lambda x, y, w, h: fine[y : y + h, x : x + w, None],
                  mpp=layout.grid_mpp, channels=1, labels=True, compression="zlib")
    regions = choose_regions(np.random.default_rng([spec.seed, 3]), layout,
                             3 if np.random.default_rng([spec.seed, 4]).random() < 0.5 else 2)
    annotations = region_annotations(layout, regions, scanner.mpp)
    write_annotations(annotations, paths["annotations"], format="geojson")
    counts = np.bincount(fine.ravel(), minlength=len(FINE_LABELS))
    record = {
        "spec": spec.to_dict(),
        "score": score.label,
        "mpp": scanner.mpp,
        "ground_truth_mpp": layout.grid_mpp,
        "size_px": list(renderer.size),
        "cells": len(renderer.cells),
        "regions": [list(r.exterior.coords) for r in regions],
        "fine_fractions": {n: round(float(c) / fine.size, 5)
                           for n, c in zip(FINE_LABELS, counts, strict=True)},
        "seconds": {k: round(v, 2) for k, v in {**times, "total_s": time.perf_counter() - start}.items()},
    }
    write_json(paths["done"], record)
    log.info("%s: %dx%d px in %.1f s", spec.slide_id, *renderer.size, record["seconds"]["total_s"])
    return record

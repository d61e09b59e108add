"""Evaluate a trained generator on fresh patches of its domains; the source | styled | target gallery."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hookseg.cohort import Manifest
from stylegan_aug.bank import load_generator, read_meta, stylise
from stylegan_aug.data import DomainSpec, domain_records, sample_patches
from stylegan_aug.gallery import image_grid
from stylegan_aug.metrics import transfer_report

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """One source -> target pair: the metrics and the patches they were measured on (uint8)."""

    source: str
    target: str
    report: dict[str, float]
    source_patches: np.ndarray
    styled: np.ndarray
    target_patches: np.ndarray

    @property
    def pair(self) -> str:
        return f"{self.source}->{self.target}"


def evaluate_generator(folder: str | Path, manifest: Manifest, *, patches: int = 128, seed: int = 1234,
                       mpps: Sequence[float] | None = None,
                       splits: Sequence[str] | None = None) -> list[Evaluation]:
    """Metrics of every target of the generator in ``folder`` on ``patches`` new draws per domain.

    ``seed`` differs from the training seeds by default, so the patch centres are new draws (the slides
    may be the same: the demo cohort has two DS1 slides).
    """
    meta = read_meta(folder)
    generator = load_generator(folder)
    size = int(meta["size"])
    mpps = tuple(mpps or meta["mpps"])
    splits = tuple(splits or meta["config"]["data"]["splits"])
    min_tissue = float(meta["config"]["data"]["min_tissue"])

    def draw(name: str, *key: int) -> np.ndarray:
        records = domain_records(manifest, DomainSpec.parse(name), splits)
        return sample_patches(records, patches, size, mpps, np.random.default_rng([seed, *key]),
                              min_tissue=min_tissue)

    source = draw(meta["source"], 0)
    results = []
    for index, target in enumerate(meta["targets"]):
        styled = stylise(generator, source, np.full(patches, index, np.int32),
                         np.random.default_rng([seed, 10, index]), z_dim=int(meta["z_dim"]),
                         noise_layers=int(meta["noise_layers"]), multiple=int(meta["size_multiple"]))
        target_patches, reference = draw(target, 1, index), draw(target, 2, index)
        report = transfer_report(source, styled, target_patches, reference, seed=seed)
        results.append(Evaluation(meta["source"], target, report, source, styled, target_patches))
        log.info("%s -> %s: %s", meta["source"], target, report)
    return results


def gallery(evaluations: Sequence[Evaluation], columns: int = 6, cell: int = 96) -> np.ndarray:
    """Three rows per pair: source patches, the same patches styled, real patches of the target."""
    rows, labels = [], []
    for ev in evaluations:
        rows += [ev.source_patches[:columns], ev.styled[:columns], ev.target_patches[:columns]]
        labels += [f"source {ev.source}",
                   f"styled -> {ev.target}\nSSIM {ev.report['ssim_mean']:.2f}",
                   f"real {ev.target}"]
    return image_grid(rows, labels, cell=cell)

"""Patches of one domain (a data source, a scanner, a stain) from the cohort manifest, inside tissue.

A domain is written ``DS1`` (the manifest's ``source`` column), ``scanner=B``, ``stain=HE`` or
``source=DS1,DS2`` (several values pool their slides). GAN training draws many batches from few slides, so a
domain is read once into an in-memory pool of patches; patch centres are tissue pixels of
``hookseg.slides.tissue_mask`` whose patch footprint is at least ``min_tissue`` tissue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from hookseg.cohort import Manifest, SlideRecord
from hookseg.errors import ManifestError
from hookseg.slides import TissueMask, tissue_mask

log = logging.getLogger(__name__)

DOMAIN_COLUMNS = ("source", "scanner", "stain", "slide_id")


@dataclass(frozen=True)
class DomainSpec:
    """Which manifest rows form a domain: ``column`` in ``values``."""

    column: str
    values: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> DomainSpec:
        column, _, values = text.partition("=") if "=" in text else ("source", "", text)
        column = column.strip()
        parsed = tuple(v.strip() for v in values.split(",") if v.strip())
        if column not in DOMAIN_COLUMNS or not parsed:
            msg = (f"Invalid domain {text!r}. Expected a source such as DS1, or COLUMN=VALUE[,VALUE] with "
                   f"COLUMN one of {list(DOMAIN_COLUMNS)} (e.g. scanner=B)")
            raise ValueError(msg)
        return cls(column, parsed)

    @property
    def name(self) -> str:
        joined = ",".join(self.values)
        return joined if self.column == "source" else f"{self.column}={joined}"

    def matches(self, record: SlideRecord) -> bool:
        return str(getattr(record, self.column)) in self.values


def domain_records(manifest: Manifest, spec: DomainSpec, splits: Sequence[str]) -> list[SlideRecord]:
    """The manifest's slides of ``spec`` in ``splits``; a ManifestError lists the values that exist."""
    records = [r for r in manifest if spec.matches(r) and r.split in splits]
    if not records:
        present = sorted({str(getattr(r, spec.column)) for r in manifest if r.split in splits})
        msg = (f"{manifest.path}: no slide of domain {spec.name!r} in splits {list(splits)}. "
               f"Received: {spec.column} in {list(spec.values)}; the manifest has {spec.column} {present}")
        raise ManifestError(msg, path=manifest.path)
    return records


def _candidates(mask: TissueMask, footprint: float, min_tissue: float) -> np.ndarray:
    """(row, col) mask pixels that are tissue and whose ``footprint``-px box is >= ``min_tissue`` tissue."""
    tissue = mask.mask.astype(np.float32)
    k = max(1, round(footprint))
    fraction = cv2.boxFilter(tissue, -1, (k, k), normalize=True, borderType=cv2.BORDER_CONSTANT)
    good = np.argwhere((tissue > 0) & (fraction >= min_tissue))
    if len(good) == 0:
        good = np.argwhere(tissue > 0)
    if len(good) == 0:
        good = np.argwhere(np.ones_like(tissue, bool))
    return good


def sample_patches(
    records: Sequence[SlideRecord],
    n: int,
    size: int,
    mpps: Sequence[float],
    rng: np.random.Generator,
    *,
    min_tissue: float = 0.5,
) -> np.ndarray:
    """``n`` RGB uint8 patches (n, size, size, 3): slides drawn uniformly, then mpp, then a tissue centre."""
    if n < 1 or size < 1 or not records or not mpps:
        msg = f"sample_patches needs n, size >= 1, slides and mpps. Received: n={n}, size={size}, mpps={mpps}"
        raise ValueError(msg)
    slide_of = rng.integers(len(records), size=n)
    mpp_of = rng.integers(len(mpps), size=n)
    out = np.empty((n, size, size, 3), np.uint8)
    for index, record in enumerate(records):
        picks = np.flatnonzero(slide_of == index)
        if len(picks) == 0:
            continue
        with record.open() as slide:
            mask = tissue_mask(slide)
            scale = mask.mpp / slide.mpp  # level-0 px per mask px
            for m, mpp in enumerate(mpps):
                chosen = picks[mpp_of[picks] == m]
                if len(chosen) == 0:
                    continue
                candidates = _candidates(mask, size * float(mpp) / mask.mpp, min_tissue)
                rows = candidates[rng.integers(len(candidates), size=len(chosen))]
                jitter = rng.random((len(chosen), 2))
                xs = mask.origin[0] + (rows[:, 1] + jitter[:, 0]) * scale
                ys = mask.origin[1] + (rows[:, 0] + jitter[:, 1]) * scale
                for slot, x, y in zip(chosen, xs, ys, strict=True):
                    out[slot] = slide.read_at_center((float(x), float(y)), (size, size), float(mpp))
        log.debug("%s: %d patches", record.slide_id, len(picks))
    return out


def to_unit(images: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] -> float32 [-1, 1], the generator's range."""
    return images.astype(np.float32) / 127.5 - 1.0


def to_uint8(images: np.ndarray) -> np.ndarray:
    """float [-1, 1] -> uint8, clipped and rounded."""
    return np.clip(np.rint((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def random_dihedral(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image of a batch flipped and quarter-turned at random (histology has no orientation)."""
    out = images.copy()
    flips = rng.random(len(images)) < 0.5
    out[flips] = out[flips, :, ::-1]
    turns = rng.integers(4, size=len(images))
    for k in range(1, 4):
        sel = turns == k
        if sel.any():
            out[sel] = np.rot90(out[sel], k, axes=(1, 2))
    return out

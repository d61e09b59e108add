"""Pure functions for reading by physical resolution: mpp from TIFF tags, level choice, sampling geometry."""

from __future__ import annotations

from collections.abc import Sequence

# A microscope scan lies well inside this range; 72/96-dpi "resolutions" written by image editors do not.
PLAUSIBLE_MPP = (0.02, 50.0)
_UNIT_TO_MICRONS = {"centimeter": 1e4, "inch": 25400.0, "millimeter": 1e3, "micrometer": 1.0}


def mpp_from_resolution(resolution: float | None, unit: str | None) -> float | None:
    """Microns per pixel from a TIFF XResolution + ResolutionUnit pair, or None when absent or implausible."""
    if not resolution or unit is None:
        return None
    microns = _UNIT_TO_MICRONS.get(str(unit).strip().lower())
    if microns is None:
        return None
    mpp = microns / float(resolution)
    return mpp if PLAUSIBLE_MPP[0] <= mpp <= PLAUSIBLE_MPP[1] else None


def choose_level(level_mpps: Sequence[float], target_mpp: float, rel_tol: float = 1e-3) -> int:
    """Index of the coarsest level that is not coarser than ``target_mpp`` (level 0 if all are coarser).

    Reading the finest level would waste I/O; reading a coarser one would lose detail. ``rel_tol`` absorbs
    rounding in pyramid downsamples (e.g. 2.0005 in real SVS files).
    """
    best = 0
    for index, mpp in enumerate(level_mpps):
        if mpp <= target_mpp * (1 + rel_tol) and mpp >= level_mpps[best]:
            best = index
    return best

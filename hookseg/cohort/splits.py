"""Patient-level splits: all slides of a patient land in one split, so no patient leaks into evaluation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from hookseg.errors import ConfigError


def assign_patient_splits(
    patients: Sequence[str],
    fractions: Mapping[str, float],
    *,
    seed: int = 0,
    strata: Sequence[str] | None = None,
) -> list[str]:
    """Split name per slide, given each slide's patient (and optionally a stratum such as its stain).

    Patients are shuffled with ``seed`` and dealt to the split furthest below its target share of slides,
    within each stratum; a patient whose slides span strata is placed by its first stratum.
    """
    if not fractions or any(f < 0 for f in fractions.values()) or sum(fractions.values()) <= 0:
        msg = f"split fractions must be non-negative with a positive sum. Received: {dict(fractions)}"
        raise ConfigError(msg)  # the --train/--val/--test flags
    names = list(fractions)
    target = np.array([fractions[n] for n in names], dtype=float)
    target /= target.sum()
    strata = list(strata) if strata is not None else [""] * len(patients)
    slides_of: dict[str, list[int]] = {}
    stratum_of: dict[str, str] = {}
    for index, (patient, stratum) in enumerate(zip(patients, strata, strict=True)):
        slides_of.setdefault(patient, []).append(index)
        stratum_of.setdefault(patient, stratum)
    rng = np.random.default_rng(seed)
    result = [""] * len(patients)
    for stratum in sorted(set(stratum_of.values())):
        members = sorted(p for p, s in stratum_of.items() if s == stratum)
        rng.shuffle(members)
        counts = np.zeros(len(names))
        for patient in members:
            total = counts.sum() + len(slides_of[patient])
            deficit = target * total - counts
            choice = int(np.argmax(deficit))
            counts[choice] += len(slides_of[patient])
            for index in slides_of[patient]:
                result[index] = names[choice]
    return result

"""A phase's list of presets (paper Table 8) -> one staged ``Pipeline`` of built transforms.

Presets are additive building blocks (``basic``, ``color_noise``, ``noise``, ``heavy_color``,
``targeted_hsv``, ``gan``, ``xy_jitter``, ``deform``); a phase lists several. Their transforms are sorted
into the stages of ``registry.STAGES`` (stable within a stage), and an item reached twice (a preset listed
twice, or included by two presets) is built once.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import albumentations as A
import numpy as np

from hookseg.augment import registry
from hookseg.augment.config import AugmentConfig, OneOfSpec, Spec, TransformSpec
from hookseg.augment.deform import PairedDistortion
from hookseg.augment.geometry import AffineComponent
from hookseg.augment.stain import StyleBank, StyleBankSlot


@dataclass
class Pipeline:
    """Built transforms per stage. ``shared`` runs once over both views; ``acquisition`` once per view."""

    affine: list[AffineComponent] = field(default_factory=list)
    deform: list[PairedDistortion] = field(default_factory=list)
    shared: A.Compose | None = None
    acquisition: A.Compose | None = None
    names: tuple[str, ...] = ()

    def set_random_state(self, generator: np.random.Generator, py_random: random.Random) -> None:
        """One stream for every transform: per-transform seeds would correlate their ``p`` draws."""
        for transform in self.deform:
            transform.set_random_state(generator, py_random)
        for compose in (self.shared, self.acquisition):
            if compose is not None:
                compose.set_random_state(generator, py_random)

    def style_slots(self) -> list[StyleBankSlot]:
        if self.shared is None:
            return []
        return [t for t in self.shared.transforms if isinstance(t, StyleBankSlot)]

    def attach_style_bank(self, bank: StyleBank | None) -> int:
        """Fill the ``gan`` slot(s); returns how many slots took the bank."""
        slots = self.style_slots()
        for slot in slots:
            slot.attach_bank(bank)
        return len(slots)


def _build(spec: Spec, force: bool) -> object:
    p = 1.0 if force else spec.p
    if isinstance(spec, OneOfSpec):
        # Inside one_of a member's p is its relative weight (albumentations OneOf normalises them).
        members = [registry.instantiate(m.name, m.p, dict(m.params)) for m in spec.members]
        return A.OneOf(members, p=p)
    return registry.instantiate(spec.name, p, dict(spec.params))


def collect_specs(presets: Sequence[str], config: AugmentConfig) -> list[Spec]:
    """The specs of ``presets`` in stage order, each written item once."""
    seen: set[str] = set()
    specs: list[Spec] = []
    for name in presets:
        for spec in config.preset(name):
            if spec.where not in seen:
                seen.add(spec.where)
                specs.append(spec)
    return sorted(specs, key=lambda s: registry.STAGES.index(s.stage))


def build_pipeline(presets: Sequence[str], config: AugmentConfig, *, force: bool = False) -> Pipeline:
    """Build the transforms of ``presets``; ``force`` sets every probability to 1 (galleries, tests)."""
    specs = collect_specs(presets, config)
    by_stage: dict[str, list[object]] = {stage: [] for stage in registry.STAGES}
    for spec in specs:
        by_stage[spec.stage].append(_build(spec, force))
    shared = by_stage["style"] + by_stage["stain"] + by_stage["color"]
    names = tuple(s.name if isinstance(s, TransformSpec) else "one_of" for s in specs)
    return Pipeline(
        affine=by_stage["affine"],  # type: ignore[arg-type]
        deform=by_stage["deform"],  # type: ignore[arg-type]
        # is_check_shapes=False: the context may have another pixel size than the target.
        shared=A.Compose(shared, additional_targets={"context": "image"}, is_check_shapes=False, p=1.0)
        if shared
        else None,
        acquisition=A.Compose(by_stage["acquisition"], p=1.0) if by_stage["acquisition"] else None,
        names=names,
    )

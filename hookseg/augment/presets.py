"""A list of presets (paper Table 8) -> one albumentations ``Compose`` for a paired sample.

Presets are additive building blocks (``basic``, ``color_noise``, ``noise``, ``heavy_color``,
``targeted_hsv``, ``gan``, ``xy_jitter``, ``deform``); a phase in params.yaml lists several. Their transforms
are sorted into the stages of ``registry.STAGES`` (stable within a stage), and an item reached twice (a
preset listed twice, or included by two presets) is built once. The Compose is:

1. ``PairedGeometry``: the deform and affine stages, one physical warp of both views and their labels;
   then ``BadRegions`` (the artefact stage), drawn on both views and their labels;
2. a nested ``Compose(additional_targets={"context": "image"})`` of the style, stain and colour stages:
   one draw shared by both views, because a slide has one stain;
3. ``PerView`` of the acquisition stage: blur and noise drawn per view.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import albumentations as A
import cv2
import numpy as np

from hookseg.augment import registry
from hookseg.augment.artefacts import BadRegions
from hookseg.augment.config import AugmentConfig, OneOfSpec, Spec, TransformSpec
from hookseg.augment.dual_fov import PairedGeometry, PerView
from hookseg.augment.stain import StyleBank, StyleBankSlot

_BORDERS = {
    "reflect_101": cv2.BORDER_REFLECT_101,
    "reflect": cv2.BORDER_REFLECT,
    "replicate": cv2.BORDER_REPLICATE,
    "constant": cv2.BORDER_CONSTANT,
}


@dataclass
class Pipeline:
    """The built ``Compose`` and the names of its transforms in stage order."""

    compose: A.Compose
    names: tuple[str, ...] = ()

    def __call__(self, **data: Any) -> dict[str, Any]:
        # force_apply: the outer Compose (p = 1) then draws nothing, so every draw belongs to a transform.
        return self.compose(**data, force_apply=True)

    def set_random_state(self, generator: np.random.Generator, py_random: random.Random) -> None:
        """One stream for every transform: per-transform seeds would correlate their ``p`` draws."""
        self.compose.set_random_state(generator, py_random)

    @property
    def geometry(self) -> PairedGeometry | None:
        return next((t for t in self.compose.transforms if isinstance(t, PairedGeometry)), None)

    @property
    def relabels(self) -> bool:
        """Whether a transform writes new labels (drawn bad regions): a teacher's target would not follow."""
        return any(isinstance(t, BadRegions) for t in self.compose.transforms)

    def style_slots(self) -> list[StyleBankSlot]:
        return [t for t in _walk(self.compose) if isinstance(t, StyleBankSlot)]

    def attach_style_bank(self, bank: StyleBank | None) -> int:
        """Fill the ``gan`` slot(s); returns how many slots took the bank."""
        slots = self.style_slots()
        for slot in slots:
            slot.attach_bank(bank)
        return len(slots)


def _walk(transform: Any) -> list[Any]:
    children = getattr(transform, "transforms", None)
    if children is None:
        return [transform]
    return [leaf for child in children for leaf in _walk(child)]


def _build(spec: Spec, force: bool, ratio: float) -> Any:
    p = 1.0 if force else spec.p
    if isinstance(spec, OneOfSpec):
        # Inside one_of a member's p is its relative weight (albumentations OneOf normalises them).
        members = [registry.instantiate(m.name, m.p, dict(m.params)) for m in spec.members]
        return A.OneOf(members, p=p)
    params = dict(spec.params)
    if spec.stage == "artefact":  # drawn in physical units on both views, like the geometry
        params["ratio"] = ratio
    return registry.instantiate(spec.name, p, params)


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


def build_pipeline(
    presets: Sequence[str], config: AugmentConfig, *, ratio: float = 1.0, force: bool = False
) -> Pipeline:
    """Build the transforms of ``presets``; ``force`` sets every probability to 1 (galleries, tests)."""
    specs = collect_specs(presets, config)
    by_stage: dict[str, list[Any]] = {stage: [] for stage in registry.STAGES}
    for spec in specs:
        by_stage[spec.stage].append(_build(spec, force, ratio))
    stages: list[Any] = []
    if by_stage["deform"] or by_stage["affine"]:
        stages.append(
            PairedGeometry(
                affine=by_stage["affine"],
                deform=by_stage["deform"],
                ratio=ratio,
                border_mode=_BORDERS[config.border.image],
                fill=tuple(float(v) for v in config.border.image_value),
                fill_mask=config.ignore_index,
            )
        )
    stages += by_stage["artefact"]
    shared = by_stage["style"] + by_stage["stain"] + by_stage["color"]
    if shared:
        # is_check_shapes=False: the context may have another pixel size than the target.
        context_as_image = {"context": "image"}
        stages.append(A.Compose(shared, additional_targets=context_as_image, is_check_shapes=False, p=1.0))
    if by_stage["acquisition"]:
        stages.append(PerView(by_stage["acquisition"]))
    names = tuple(s.name if isinstance(s, TransformSpec) else "one_of" for s in specs)
    return Pipeline(A.Compose(stages, is_check_shapes=False, p=1.0), names)

"""Encoder registry: keras.applications constructors plus the layer tapped at each stride.

Encoders come from ``keras.applications.EfficientNetB0..B7`` with ``weights=None`` (the paper trains
from random init and nothing may be downloaded here) or a local weights file. The models contain
``Rescaling(1/255)`` + ``Normalization``, so they take raw 0-255 float pixels.

Taps follow the segmentation_models convention (the last layer at each stride); the names are the
same in every variant, only the channel counts differ:

    P1 stride 2  block2a_expand_activation     P4 stride 16 block6a_expand_activation
    P2 stride 4  block3a_expand_activation     P5 stride 32 top_activation
    P3 stride 8  block4a_expand_activation

The stride-16 *stage output* (``block5c_add`` for B0, ``block5f_add`` for B4, ...) is found from the
graph as the input of ``block6a_expand_conv``, so the split point needs no per-variant table.

``mnv3s`` is ``keras.applications.MobileNetV3Small`` (minimalistic: ReLU and 3x3 kernels, no squeeze-excite),
for a distilled student that must run several times faster than the teacher (issue 16). It also takes raw
0-255 pixels (its own ``Rescaling`` inside). Its layer names carry no stage numbers, so its taps are found by
shape: the last layer at each stride. It has no split point, so it serves the U-Net, not the m-UNet's target.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import keras

from hookseg.errors import ConfigError

logger = logging.getLogger(__name__)

TAP_LAYERS: tuple[str, ...] = (
    "block2a_expand_activation",
    "block3a_expand_activation",
    "block4a_expand_activation",
    "block6a_expand_activation",
    "top_activation",
)
"""Tap layer per pyramid level P1..P5 (strides 2, 4, 8, 16, 32)."""

SPLIT_LAYER = "block6a_expand_conv"
"""First layer of the last two stages; its input is the stride-16 stage output (the merge point)."""

STRIDES: tuple[int, ...] = (2, 4, 8, 16, 32)


@dataclass(frozen=True)
class EncoderSpec:
    """One registry entry: the keras.applications constructor name and its measured size."""

    constructor: str
    params: int  # all weights at include_top=False (keras 3.15.1), for docs and sanity checks
    options: tuple[tuple[str, object], ...] = ()  # extra constructor keywords

    @property
    def is_efficientnet(self) -> bool:
        """EfficientNets have the named taps and the stride-16 split point; the others are tapped by shape."""
        return self.constructor.startswith("EfficientNet")


ENCODERS: dict[str, EncoderSpec] = {
    "b0": EncoderSpec("EfficientNetB0", 4_049_571),
    "b1": EncoderSpec("EfficientNetB1", 6_575_239),
    "b2": EncoderSpec("EfficientNetB2", 7_768_569),
    "b3": EncoderSpec("EfficientNetB3", 10_783_535),
    "b4": EncoderSpec("EfficientNetB4", 17_673_823),
    "b5": EncoderSpec("EfficientNetB5", 28_513_527),
    "b6": EncoderSpec("EfficientNetB6", 40_960_143),
    "b7": EncoderSpec("EfficientNetB7", 64_097_687),
    "mnv3s": EncoderSpec("MobileNetV3Small", 441_000,
                         (("minimalistic", True), ("include_preprocessing", True))),
}


def get_encoder_spec(name: str) -> EncoderSpec:
    """Registry look-up that fails with the valid keys (smp ``encoders/__init__.py`` style)."""
    key = str(name).lower()
    if key not in ENCODERS:
        msg = f"Unknown encoder. Received: encoder={name!r}. Expected one of {sorted(ENCODERS)}."
        raise ConfigError(msg)
    return ENCODERS[key]


def _check_weights(weights: str | Path | None) -> str | None:
    """Only ``None`` or an existing local file: 'imagenet' would download, which is never allowed."""
    if weights is None:
        return None
    path = Path(weights)
    if str(weights) == "imagenet" or not path.is_file():
        msg = (
            f"Encoder weights must be None or an existing local weights file. Received: weights={weights!r}. "
            "Nothing is downloaded; pass the path of a saved `.weights.h5` file."
        )
        raise ConfigError(msg, path=None if str(weights) == "imagenet" else path)
    return str(path)


def check_input_size(input_size: int, stride: int = 32) -> None:
    """Every tap must have an integer size, so the side must be a multiple of the deepest stride."""
    if int(input_size) <= 0 or int(input_size) % stride:
        msg = (
            f"Invalid input size. Received: input_size={input_size}. Expected a positive multiple of "
            f"{stride}; pad or crop patches to e.g. {max(stride, (int(input_size) // stride + 1) * stride)}."
        )
        raise ConfigError(msg)


def build_base(
    name: str, input_size: int, *, weights: str | Path | None = None, model_name: str = "encoder"
) -> keras.Model:
    """The bare keras.applications EfficientNet (no top), named so two encoders can share a model."""
    spec = get_encoder_spec(name)
    constructor = getattr(keras.applications, spec.constructor)
    return constructor(
        include_top=False,
        weights=_check_weights(weights),
        input_shape=(int(input_size), int(input_size), 3),
        name=model_name,
        **dict(spec.options),
    )


def taps_by_stride(base: keras.Model, input_size: int, strides: tuple[int, ...]) -> list[keras.KerasTensor]:
    """The last layer's output at each stride, for encoders whose layer names do not say their stage."""
    last: dict[int, keras.KerasTensor] = {}
    for layer in base.layers:
        shape = layer.output.shape
        if len(shape) == 4 and shape[1] and int(input_size) % int(shape[1]) == 0:
            last[int(input_size) // int(shape[1])] = layer.output
    missing = [s for s in strides if s not in last]
    if missing:
        msg = f"{base.name}: no layer at stride(s) {missing} for input size {input_size}"
        raise ConfigError(msg)
    return [last[s] for s in strides]


def stage16_output(base: keras.Model) -> keras.KerasTensor:
    """The stride-16 stage output (e.g. ``block5f_add`` in B4): the input of ``block6a_expand_conv``."""
    return base.get_layer(SPLIT_LAYER).input


def stage16_output_name(base: keras.Model) -> str:
    """Name of the layer producing the stride-16 stage output (``block5c_add`` for B0)."""
    return stage16_output(base)._keras_history.operation.name


def build_encoder(
    name: str,
    input_size: int,
    *,
    depth: int = 5,
    weights: str | Path | None = None,
    model_name: str = "encoder",
) -> keras.Model:
    """Encoder as one named sub-model returning the pyramid [P1..P_depth].

    ``depth=4`` stops at stride 16 (``block6a_expand_activation``) and drops stages 6-7 and the top
    conv, which hold ~80% of an EfficientNet's weights: the cheap way to give the context branch the
    same family as the target branch.
    """
    if depth not in (4, 5):
        msg = f"Invalid encoder depth. Received: depth={depth}. Expected 4 (stride 16) or 5 (stride 32)."
        raise ConfigError(msg)
    check_input_size(input_size, STRIDES[depth - 1])
    base = build_base(name, input_size, weights=weights, model_name=f"{model_name}_base")
    if get_encoder_spec(name).is_efficientnet:
        taps = [base.get_layer(tap).output for tap in TAP_LAYERS[:depth]]
    else:
        taps = taps_by_stride(base, input_size, STRIDES[:depth])
    return keras.Model(base.input, taps, name=model_name)


def build_split_encoder(
    name: str,
    input_size: int,
    *,
    weights: str | Path | None = None,
    model_name: str = "target_encoder",
) -> tuple[keras.Model, keras.Model]:
    """Encoder cut at the stride-16 stage output, so a merge can run between the two halves.

    Returns ``(head, tail)``: ``head(image) -> [P1, P2, P3, stage16]`` and
    ``tail(stage16) -> [P4, P5]``. The halves own disjoint layers, so the model saves and reloads
    as two ordinary nested functional models.
    """
    check_input_size(input_size)
    if not get_encoder_spec(name).is_efficientnet:
        msg = (f"Invalid encoder for the m-UNet's target branch. Received: encoder={name!r}. Expected an "
               f"EfficientNet (b0..b7): the merge needs its stride-16 stage output")
        raise ConfigError(msg)
    base = build_base(name, input_size, weights=weights, model_name=f"{model_name}_base")
    split = stage16_output(base)
    head_outputs = [base.get_layer(tap).output for tap in TAP_LAYERS[:3]] + [split]
    head = keras.Model(base.input, head_outputs, name=f"{model_name}_head")
    tail_outputs = [base.get_layer(TAP_LAYERS[3]).output, base.get_layer(TAP_LAYERS[4]).output]
    tail = keras.Model(split, tail_outputs, name=f"{model_name}_tail")
    logger.debug("split %s at %s (%s)", name, stage16_output_name(base), tuple(split.shape))
    return head, tail

"""Single-resolution U-Net on an EfficientNet encoder: the paper's base model (Table 8, "UNet B0").

Input/output contract shared with the dual model: inputs are a dict ``{"target": (B,S,S,3)}`` of
raw 0-255 float pixels, outputs a dict ``{"final": (B,S,S,C)}`` of float32 softmax probabilities.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import keras

from hookseg.model.blocks import segmentation_head, unet_decoder
from hookseg.model.encoders import build_encoder, check_input_size

logger = logging.getLogger(__name__)

DEFAULT_DECODER_FILTERS: tuple[int, ...] = (256, 128, 64, 32, 16)


def build_unet(
    encoder: str = "b0",
    input_size: int = 512,
    num_classes: int = 3,
    decoder_filters: Sequence[int] = DEFAULT_DECODER_FILTERS,
    encoder_weights: str | Path | None = None,
    name: str = "unet",
) -> keras.Model:
    """U-Net: EfficientNet taps P1..P5 -> 5 decoder blocks (strides 16..1) -> 3x3 softmax head."""
    # === Layers ===
    check_input_size(input_size)
    target = keras.Input((int(input_size), int(input_size), 3), name="target")
    encoder_model = build_encoder(
        encoder, input_size, depth=5, weights=encoder_weights, model_name="target_encoder"
    )

    # === Functional Model ===
    pyramid = encoder_model(target)
    features = unet_decoder(pyramid, decoder_filters, "target_decoder")
    final = segmentation_head(features[1], int(num_classes), "final")
    return keras.Model({"target": target}, {"final": final}, name=name)

"""Dual-resolution U-Net ("m-UNet", paper Fig. 9-10): a target branch and a context branch, two merges.

Inputs ``{"target": (B,S,S,3), "context": (B,S,S,3)}``: the same centre read at ``mpp`` and at
``context_ratio * mpp`` (e.g. 0.5 and 2.0 um/px), raw 0-255 floats. Outputs ``{"final": (B,S,S,C),
"context": (B,S,S,C)}``: float32 softmax; "context" is the low-res branch's own prediction over the
low-res field of view (deep supervision, trained against the low-res labels).

1. Context branch: encoder (``context_depth`` 4 = truncated at stride 16, the default) + its own
   U-Net decoder + softmax head.
2. Pixel-aligned merge (``merge="pixel_aligned"``): the context branch's stride-16 map is centre
   cropped to 1/ratio (exactly the target field of view), compressed by 1x1 conv-BN-ReLU, resized to
   the target stride-16 map and concatenated with the target encoder's stride-16 *stage output*
   (the second-to-last block, ``block5f_add`` for B4); 1x1 convs bring it back to that stage's
   channel count and the rest of the target encoder (block6a..top) runs on the merged map.
   ``merge="hooknet"``: HookNet's hook instead: the context decoder map at stride 16/ratio (same
   physical pixel size as the target stride-16 map) is centre-cropped, no resize, and concatenated
   without 1x1 compression (only the linear projection needed to re-enter block6a).
   ``merge_residual=True`` adds the merge to the stage output instead (identity at init): the choice for
   a master warm-started from the base, whose encoder tail then keeps the base's features.
3. Final fusion: the target decoder's stride-1 features concatenated with the centre-cropped,
   resized stride-1 features of the context decoder, 1x1 conv-BN-ReLU, 1x1 conv, softmax "final".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import keras
from keras import layers

from hookseg.errors import ConfigError
from hookseg.model.blocks import CenterCropResize, ContextMerge, conv_bn_relu, segmentation_head, unet_decoder
from hookseg.model.encoders import build_encoder, build_split_encoder, check_input_size

logger = logging.getLogger(__name__)

MERGES = ("pixel_aligned", "hooknet")

# Paper-scale defaults (B4 target + B4 context truncated at stride 16) come to ~25 M trainable
# weights, the paper's figure; docs/model.md has the measured budget per part.
DEFAULT_DECODER_FILTERS: tuple[int, ...] = (96, 64, 48, 32, 16)
DEFAULT_CONTEXT_DECODER_FILTERS: tuple[int, ...] = (64, 48, 32, 24, 16)
"""Context decoder sizes for depth 5; depth 4 uses the last four."""


def _check_merge_args(merge: str, context_ratio: int, context_depth: int) -> None:
    if merge not in MERGES:
        msg = f"Unknown merge. Received: merge={merge!r}. Expected one of {list(MERGES)}."
        raise ConfigError(msg)
    if int(context_ratio) < 1 or 16 % int(context_ratio):
        msg = (
            f"Invalid context ratio. Received: context_ratio={context_ratio}. Expected 1, 2, 4, 8 or 16 "
            "(the context mpp over the target mpp; the paper's levels 1/3 are ratio 4)."
        )
        raise ConfigError(msg)
    if context_depth not in (4, 5):
        msg = f"Invalid context depth. Received: context_depth={context_depth}. Expected 4 or 5."
        raise ConfigError(msg)


def build_dual_unet(
    encoder: str = "b4",
    context_encoder: str | None = None,
    input_size: int = 512,
    context_ratio: int = 4,
    num_classes: int = 3,
    merge: str = "pixel_aligned",
    decoder_filters: Sequence[int] = DEFAULT_DECODER_FILTERS,
    context_decoder_filters: Sequence[int] | None = None,
    context_depth: int = 4,
    merge_context_filters: Sequence[int] = (256, 64),
    merge_fuse_filters: Sequence[int] = (128,),
    merge_residual: bool = False,
    fusion_filters: Sequence[int] = (32,),
    encoder_weights: str | Path | None = None,
    context_encoder_weights: str | Path | None = None,
    name: str = "munet",
) -> keras.Model:
    """Build the m-UNet. ``context_encoder`` defaults to ``encoder`` and ``context_decoder_filters``
    to the last ``context_depth`` entries of :data:`DEFAULT_CONTEXT_DECODER_FILTERS`."""
    _check_merge_args(merge, context_ratio, context_depth)
    check_input_size(input_size)
    size, ratio = int(input_size), int(context_ratio)
    if context_decoder_filters is None:
        context_decoder_filters = DEFAULT_CONTEXT_DECODER_FILTERS[-context_depth:]
    hooknet = merge == "hooknet"

    # === Layers ===
    target = keras.Input((size, size, 3), name="target")
    context = keras.Input((size, size, 3), name="context")
    target_head, target_tail = build_split_encoder(
        encoder, size, weights=encoder_weights, model_name="target_encoder"
    )
    context_model = build_encoder(
        context_encoder or encoder,
        size,
        depth=context_depth,
        weights=context_encoder_weights,
        model_name="context_encoder",
    )

    # === Functional Model ===
    context_features = unet_decoder(context_model(context), context_decoder_filters, "context_decoder")
    context_probs = segmentation_head(context_features[1], int(num_classes), "context_output")

    *target_skips, stage16 = target_head(target)
    source_stride = 16 // ratio if hooknet else 16
    if source_stride not in context_features:
        msg = f"No context map at stride {source_stride} for merge={merge!r}, context_ratio={ratio}."
        raise ConfigError(msg)
    merged = ContextMerge(
        ratio,
        int(stage16.shape[-1]),
        context_filters=() if hooknet else merge_context_filters,
        fuse_filters=() if hooknet else merge_fuse_filters,
        residual=merge_residual,
        name="merge",
    )(stage16, context_features[source_stride])
    p4, p5 = target_tail(merged)
    target_features = unet_decoder([*target_skips, p4, p5], decoder_filters, "target_decoder")

    context_crop = CenterCropResize(ratio, (size, size), name="fusion_context_crop")(context_features[1])
    x = layers.Concatenate(name="fusion_concat")([target_features[1], context_crop])
    for i, filters in enumerate(fusion_filters):
        x = conv_bn_relu(x, int(filters), 1, f"fusion_{i}")
    final = segmentation_head(x, int(num_classes), "final", kernel_size=1)
    logger.debug("built %s: merge=%s ratio=%d context_depth=%d", name, merge, ratio, context_depth)
    return keras.Model(
        {"target": target, "context": context}, {"final": final, "context": context_probs}, name=name
    )

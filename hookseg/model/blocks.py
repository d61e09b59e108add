"""Building blocks shared by the U-Nets: conv-BN-ReLU, decoder, heads, and the two crop/merge layers.

Everything uses ``keras.layers`` and ``keras.ops`` only, so it runs under the TensorFlow, JAX and
torch backends (``tf.image.crop_and_resize`` in a Lambda breaks JAX and torch: STACK.md trap 8).
Crops are static tensor slices and resizes are ``keras.ops.image.resize`` (bilinear, half-pixel).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import keras
from keras import layers, ops

from hookseg.errors import ConfigError

logger = logging.getLogger(__name__)


# --- functional helpers -------------------------------------------------------------------------


def conv_bn_relu(x, filters: int, kernel_size: int, name: str):
    """Conv (no bias: BN follows) + BN + ReLU, the unit of every decoder and 1x1 compression."""
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def unet_decoder(pyramid: Sequence, filters: Sequence[int], name: str) -> dict[int, object]:
    """smp-style U-Net decoder over an encoder pyramid [P1..Pd] (strides 2..2^d).

    Each block upsamples x2 (nearest), concatenates the skip of that stride (none at stride 1) and
    applies two 3x3 conv-BN-ReLU. Returns every intermediate map keyed by its stride, the bottleneck
    included, so a caller can take e.g. the stride-16 or stride-1 features of a branch.
    """
    depth = len(pyramid)
    if len(filters) != depth:
        msg = (
            f"Invalid decoder filters for {name}. Received: filters={tuple(filters)} "
            f"({len(filters)} blocks). Expected {depth} values, one per encoder level."
        )
        raise ConfigError(msg)
    x = pyramid[-1]
    features = {2**depth: x}
    skips = [*reversed(pyramid[:-1]), None]
    for block, (skip, n_filters) in enumerate(zip(skips, filters, strict=True)):
        prefix = f"{name}_b{block}"
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"{prefix}_up")(x)
        if skip is not None:
            x = layers.Concatenate(name=f"{prefix}_concat")([x, skip])
        x = conv_bn_relu(x, int(n_filters), 3, f"{prefix}_1")
        x = conv_bn_relu(x, int(n_filters), 3, f"{prefix}_2")
        features[2 ** (depth - 1 - block)] = x
    return features


def segmentation_head(x, num_classes: int, name: str, kernel_size: int = 3):
    """Class conv + softmax kept in float32 (stable under mixed precision); the layer is named ``name``."""
    x = layers.Conv2D(num_classes, kernel_size, padding="same", name=f"{name}_logits")(x)
    return layers.Activation("softmax", dtype="float32", name=name)(x)


# --- crop + resize ------------------------------------------------------------------------------


def crop_box(side: int, ratio: int) -> tuple[int, int]:
    """(offset, size) of the centred crop of side/ratio; raises unless it falls on whole pixels."""
    if int(ratio) < 1 or side % int(ratio) or (side - side // int(ratio)) % 2:
        msg = (
            f"Cannot centre-crop a {side}-pixel feature map by 1/{ratio} on whole pixels. Received: "
            f"side={side}, ratio={ratio}. Expected side divisible by ratio with an even margin; "
            "use an input size whose stride-16 map is, e.g. 128, 256 or 512 for ratio 4."
        )
        raise ConfigError(msg)
    size = side // int(ratio)
    return (side - size) // 2, size


def center_crop_resize(x, ratio: int, size: tuple[int, int] | None = None):
    """Centre 1/ratio of an NHWC map, resized (bilinear, half-pixel) to ``size`` when given.

    With equal fields-of-view centres, the centre 1/ratio of a map taken at ratio x the mpp covers
    exactly the high-resolution field of view, so the result is pixel-aligned with the target map.
    """
    top, height = crop_box(int(x.shape[1]), ratio)
    left, width = crop_box(int(x.shape[2]), ratio)
    x = x[:, top : top + height, left : left + width, :]
    if size is not None and (height, width) != tuple(size):
        x = ops.image.resize(x, tuple(size), interpolation="bilinear")
    return x


@keras.saving.register_keras_serializable(package="hookseg")
class CenterCropResize(layers.Layer):
    """Layer form of :func:`center_crop_resize` (stateless)."""

    def __init__(self, ratio: int, size: Sequence[int] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ratio = int(ratio)
        self.size = None if size is None else tuple(int(s) for s in size)

    def call(self, inputs):
        return center_crop_resize(inputs, self.ratio, self.size)

    def compute_output_shape(self, input_shape):
        if self.size is not None:
            return (input_shape[0], *self.size, input_shape[-1])
        return (input_shape[0], input_shape[1] // self.ratio, input_shape[2] // self.ratio, input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "ratio": self.ratio, "size": self.size}


# --- merge --------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="hookseg")
class ContextMerge(layers.Layer):
    """Merge a context (low-res) map into a target (high-res) stage output; paper Fig. 10.

    ``target`` (B,h,w,Ct) is the target encoder's stride-16 stage output; ``context`` (B,H,W,Cc) is a
    context-branch map whose centre 1/ratio covers the target field of view. Steps: centre-crop the
    context, compress it with 1x1 conv-BN-ReLU (``context_filters``), resize it to (h, w), concatenate
    with ``target``, mix with 1x1 conv-BN-ReLU (``fuse_filters``) and project linearly (1x1 conv + BN,
    no ReLU: the stage output it replaces is a residual sum) back to ``out_channels`` = Ct, so the
    remaining encoder stages run unchanged. ``context_filters=()`` and ``fuse_filters=()`` give
    HookNet's crop-and-concatenate, plus the one projection that re-entering the encoder needs.

    ``residual=True`` adds the projection to ``target`` instead of replacing it, with the projection's BN
    scale starting at 0: the merge starts as the identity, so an encoder warm-started from the base U-Net
    (:mod:`hookseg.model.transfer`) keeps its stride-16/32 features on the first step, and the context
    is mixed in as training moves that scale off 0.
    """

    def __init__(
        self,
        ratio: int,
        out_channels: int,
        context_filters: Sequence[int] = (256, 64),
        fuse_filters: Sequence[int] = (128,),
        residual: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.residual = bool(residual)
        self.ratio = int(ratio)
        self.out_channels = int(out_channels)
        self.context_filters = tuple(int(f) for f in context_filters)
        self.fuse_filters = tuple(int(f) for f in fuse_filters)
        self.context_convs = [self._conv(f, f"context_conv{i}") for i, f in enumerate(self.context_filters)]
        self.context_bns = [self._bn(f"context_bn{i}") for i in range(len(self.context_filters))]
        self.fuse_convs = [self._conv(f, f"fuse_conv{i}") for i, f in enumerate(self.fuse_filters)]
        self.fuse_bns = [self._bn(f"fuse_bn{i}") for i in range(len(self.fuse_filters))]
        self.project_conv = self._conv(self.out_channels, "project_conv")
        self.project_bn = self._bn("project_bn", "zeros" if self.residual else "ones")

    def _conv(self, filters: int, name: str) -> layers.Conv2D:
        return layers.Conv2D(filters, 1, use_bias=False, dtype=self.dtype_policy, name=name)

    def _bn(self, name: str, gamma: str = "ones") -> layers.BatchNormalization:
        return layers.BatchNormalization(dtype=self.dtype_policy, gamma_initializer=gamma, name=name)

    def build(self, target_shape, context_shape) -> None:
        crop_box(int(context_shape[1]), self.ratio)  # fail at build time, not at the first batch
        crop_box(int(context_shape[2]), self.ratio)
        side = int(context_shape[1]) // self.ratio
        shape = (context_shape[0], side, side, context_shape[-1])
        for conv, bn in zip(self.context_convs, self.context_bns, strict=True):
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            bn.build(shape)
        shape = (target_shape[0], target_shape[1], target_shape[2], target_shape[-1] + shape[-1])
        for conv, bn in zip(self.fuse_convs, self.fuse_bns, strict=True):
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            bn.build(shape)
        self.project_conv.build(shape)
        self.project_bn.build(self.project_conv.compute_output_shape(shape))

    def call(self, target, context, training=None):
        size = (target.shape[1], target.shape[2])
        x = center_crop_resize(context, self.ratio)
        for conv, bn in zip(self.context_convs, self.context_bns, strict=True):
            x = ops.relu(bn(conv(x), training=training))
        if (x.shape[1], x.shape[2]) != size:
            x = ops.image.resize(x, size, interpolation="bilinear")
        x = ops.concatenate([target, ops.cast(x, target.dtype)], axis=-1)
        for conv, bn in zip(self.fuse_convs, self.fuse_bns, strict=True):
            x = ops.relu(bn(conv(x), training=training))
        projected = self.project_bn(self.project_conv(x), training=training)
        return target + ops.cast(projected, target.dtype) if self.residual else projected

    def compute_output_shape(self, target_shape, context_shape):
        return (*tuple(target_shape)[:-1], self.out_channels)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "ratio": self.ratio,
            "out_channels": self.out_channels,
            "context_filters": self.context_filters,
            "fuse_filters": self.fuse_filters,
            "residual": self.residual,
        }

"""Generator (source encoder + StyleGAN2 synthesis decoder) and projection discriminator, functional Keras.

Why an encoder: the paper restyles a given source patch, it does not sample new tissue. The encoder's
feature maps carry the structure (U-Net skips at every resolution), the mapping network turns (z, target
domain) into a style w, and every decoder conv is modulated by w, gets per-pixel noise and feeds a toRGB
branch (StyleGAN2's "skip" generator: the RGB outputs of all resolutions are upsampled and summed). toRGB
is a 1 x 1 modulated conv without demodulation, i.e. a per-sample colour matrix: the stain change.

Both models are fully convolutional; H and W must be multiples of ``2 ** (len(channels) - 1)``
(``size_multiple``). Images are float in [-1, 1].
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import keras
from keras import layers

from stylegan_aug.layers import MappingNetwork, ModulatedConv2D, NoiseInjection, Projection, ResidualTanh

log = logging.getLogger(__name__)

# === Config ===


def size_multiple(channels: Sequence[int]) -> int:
    return 2 ** (len(channels) - 1)


def num_noise_layers(channels: Sequence[int]) -> int:
    """Two styled convs per resolution, each with its own noise channel."""
    return 2 * len(channels)


def _check(channels: Sequence[int], num_domains: int) -> tuple[int, ...]:
    channels = tuple(int(c) for c in channels)
    if len(channels) < 2 or min(channels) < 1:
        msg = (f"`channels` must list >= 2 positive widths, full resolution first. "
               f"Received: channels={channels}")
        raise ValueError(msg)
    if int(num_domains) < 1:
        msg = (f"`num_domains` must be >= 1 (the number of target domains). "
               f"Received: num_domains={num_domains}")
        raise ValueError(msg)
    return channels


# === Layers ===


def _conv(x, filters: int, name: str, strides: int = 1, kernel_size: int = 3):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", name=name)(x)
    return layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)


def _styled(x, w, noise, filters: int, index: int, stride: int, name: str):
    """Modulated 3 x 3 conv + noise + leaky ReLU: one StyleGAN2 synthesis layer."""
    x = ModulatedConv2D(filters, 3, name=f"{name}_modconv")(x, w)
    x = NoiseInjection(index, stride, name=f"{name}_noise")(x, noise)
    return layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)


# === Functional Model ===


def build_generator(
    num_domains: int,
    channels: Sequence[int] = (32, 64, 128, 128),
    z_dim: int = 64,
    w_dim: int = 64,
    mapping_layers: int = 4,
    residual: bool = True,
    name: str = "generator",
) -> keras.Model:
    """Inputs ``[image (B,H,W,3), z (B,z_dim), domain (B,) int, noise (B,H,W,n)]`` -> styled image (B,H,W,3).

    ``domain`` indexes the target domains this generator was trained for; n = ``num_noise_layers``.
    ``residual``: the summed toRGB output edits the source (``ResidualTanh``) instead of being the image.
    """
    channels = _check(channels, num_domains)
    depth = len(channels) - 1
    image = keras.Input((None, None, 3), name="image")
    z = keras.Input((z_dim,), name="z")
    domain = keras.Input((), dtype="int32", name="domain")
    noise = keras.Input((None, None, num_noise_layers(channels)), name="noise")

    w = MappingNetwork(num_domains, z_dim, w_dim, mapping_layers, name="mapping")(z, domain)

    skips = []
    x = _conv(image, channels[0], "enc0_a")
    x = _conv(x, channels[0], "enc0_b")
    skips.append(x)
    for level in range(1, depth + 1):
        x = _conv(x, channels[level], f"enc{level}_down", strides=2)
        x = _conv(x, channels[level], f"enc{level}_b")
        skips.append(x)

    rgb = None
    index = 0
    for level in range(depth, -1, -1):
        prefix = f"dec{level}"
        if level < depth:
            x = layers.UpSampling2D(2, interpolation="bilinear", name=f"{prefix}_up")(x)
            x = layers.Concatenate(name=f"{prefix}_skip")([x, skips[level]])
        for part in ("a", "b"):
            x = _styled(x, w, noise, channels[level], index, 2**level, f"{prefix}_{part}")
            index += 1
        out = ModulatedConv2D(3, 1, demodulate=False, name=f"{prefix}_torgb")(x, w)
        if rgb is None:
            rgb = out
        else:
            rgb = layers.UpSampling2D(2, interpolation="bilinear", name=f"{prefix}_rgb_up")(rgb)
            rgb = layers.Add(name=f"{prefix}_rgb_add")([rgb, out])
    if residual:
        rgb = ResidualTanh(name="residual")(image, rgb)
    styled = layers.Activation("linear", dtype="float32", name="styled")(rgb)
    return keras.Model([image, z, domain, noise], styled, name=name)


def build_discriminator(
    num_domains: int,
    channels: Sequence[int] = (32, 64, 128, 128),
    name: str = "discriminator",
) -> keras.Model:
    """Inputs ``[image (B,H,W,3), domain (B,) int]`` -> logit (B, 1): residual conv stack + projection.

    The projection term makes "is this a real patch *of this domain*" one logit per domain, so one
    discriminator serves a generator trained for several target domains.
    """
    channels = _check(channels, num_domains)
    image = keras.Input((None, None, 3), name="image")
    domain = keras.Input((), dtype="int32", name="domain")
    x = _conv(image, channels[0], "from_rgb", kernel_size=1)
    for level, filters in enumerate(channels[1:], start=1):
        prefix = f"block{level}"
        skip = layers.AveragePooling2D(2, name=f"{prefix}_skip_pool")(x)
        skip = layers.Conv2D(filters, 1, use_bias=False, name=f"{prefix}_skip_conv")(skip)
        y = _conv(x, channels[level - 1], f"{prefix}_a")
        y = _conv(y, filters, f"{prefix}_b")
        y = layers.AveragePooling2D(2, name=f"{prefix}_pool")(y)
        x = layers.Add(name=f"{prefix}_add")([skip, y])
        x = layers.Rescaling(2**-0.5, name=f"{prefix}_scale")(x)
    x = _conv(x, channels[-1], "out_conv")
    features = layers.GlobalAveragePooling2D(name="pool")(x)
    features = layers.Dense(channels[-1], name="fc")(features)
    features = layers.LeakyReLU(0.2, name="fc_lrelu")(features)
    logit = layers.Dense(1, name="logit")(features)
    projection = Projection(num_domains, name="projection")(features, domain)
    logit = layers.Add(name="logit_add")([logit, projection])
    logit = layers.Activation("linear", dtype="float32", name="real")(logit)
    return keras.Model([image, domain], logit, name=name)

"""StyleGAN2 layers in ``keras.ops`` only: equalised dense, modulated convolution, noise, projection.

Modulation follows StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN"):
the style scales the kernel's input channels, and demodulation rescales every output channel of the
modulated kernel to unit L2 norm, which replaces AdaIN without its droplet artefacts. The kernel is never
materialised per sample: scaling the activations by the style, convolving with the shared kernel and scaling
the output by the demodulation factor is the same operation (StyleGAN2's ``fused_modconv=False`` path), and
it runs on any Keras backend. ``modulated_kernel`` builds the explicit per-sample kernel for tests.

Weights use the equalised learning rate (stored ~ N(0, 1), scaled by 1/sqrt(fan_in) at run time), which
StyleGAN needs for the mapping network's 0.01 learning-rate multiplier.
"""

from __future__ import annotations

import logging
import math

import keras
from keras import layers, ops

log = logging.getLogger(__name__)

EPSILON = 1e-8


def modulated_kernel(kernel, styles, demodulate: bool = True):
    """Per-sample kernel (B, k, k, Cin, Cout): ``kernel`` (k, k, Cin, Cout) times ``styles`` (B, Cin).

    With ``demodulate`` every (sample, output channel) slice has unit L2 norm.
    """
    weight = kernel[None] * styles[:, None, None, :, None]
    if demodulate:
        norm = ops.sqrt(ops.sum(ops.square(weight), axis=(1, 2, 3), keepdims=True) + EPSILON)
        weight = weight / norm
    return weight


@keras.saving.register_keras_serializable(package="hookseg")
class EqualDense(layers.Layer):
    """Dense layer with equalised learning rate and an optional learning-rate multiplier (mapping net)."""

    def __init__(self, units: int, lr_multiplier: float = 1.0, bias_init: float = 0.0,
                 activation: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.lr_multiplier = float(lr_multiplier)
        self.bias_init = float(bias_init)
        self.activation = activation

    def build(self, input_shape) -> None:
        fan_in = int(input_shape[-1])
        self.kernel = self.add_weight(
            shape=(fan_in, self.units), name="kernel",
            initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lr_multiplier),
        )
        self.bias = self.add_weight(
            shape=(self.units,), name="bias",
            initializer=keras.initializers.Constant(self.bias_init / self.lr_multiplier),
        )
        self.scale = self.lr_multiplier / math.sqrt(fan_in)

    def call(self, inputs):
        x = ops.matmul(inputs, self.kernel * self.scale) + self.bias * self.lr_multiplier
        if self.activation == "leaky_relu":
            x = ops.leaky_relu(x, 0.2)
        return x

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "lr_multiplier": self.lr_multiplier,
                "bias_init": self.bias_init, "activation": self.activation}


@keras.saving.register_keras_serializable(package="hookseg")
class ModulatedConv2D(layers.Layer):
    """Conv whose kernel is modulated per sample by a style vector ``w``; call as ``layer(x, w)``.

    The affine map w -> per-input-channel style starts at 1 (bias init 1), so an untrained layer is a plain
    convolution. ``demodulate=False`` is the toRGB layer: colour gains stay free to change the stain.
    """

    def __init__(self, filters: int, kernel_size: int = 3, demodulate: bool = True, use_bias: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.demodulate = bool(demodulate)
        self.use_bias = bool(use_bias)

    def build(self, inputs_shape, w_shape) -> None:
        channels, style_dim = int(inputs_shape[-1]), int(w_shape[-1])
        k = self.kernel_size
        self.kernel = self.add_weight(shape=(k, k, channels, self.filters), name="kernel",
                                      initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.affine_kernel = self.add_weight(shape=(style_dim, channels), name="affine_kernel",
                                             initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.affine_bias = self.add_weight(shape=(channels,), name="affine_bias", initializer="ones")
        self.bias = (self.add_weight(shape=(self.filters,), name="bias", initializer="zeros")
                     if self.use_bias else None)
        self.weight_gain = 1.0 / math.sqrt(channels * k * k)
        self.affine_gain = 1.0 / math.sqrt(style_dim)

    def styles(self, w):
        """(B, Cin) per-input-channel scales from the style vector ``w`` (B, style_dim)."""
        return ops.matmul(w, self.affine_kernel * self.affine_gain) + self.affine_bias

    def call(self, inputs, w):
        styles = ops.cast(self.styles(w), inputs.dtype)
        weight = self.kernel * self.weight_gain
        x = inputs * styles[:, None, None, :]
        x = ops.conv(x, weight, strides=1, padding="same")
        if self.demodulate:
            # sum over (k, k, Cin) of (weight * style)^2 == style^2 @ sum_k weight^2, for every output channel
            energy = ops.matmul(ops.square(styles), ops.sum(ops.square(weight), axis=(0, 1)))
            x = x * ops.rsqrt(energy + EPSILON)[:, None, None, :]
        if self.bias is not None:
            x = x + self.bias
        return x

    def compute_output_shape(self, inputs_shape, w_shape):
        return (*tuple(inputs_shape)[:-1], self.filters)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "demodulate": self.demodulate, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="hookseg")
class NoiseInjection(layers.Layer):
    """Add per-pixel noise scaled by a learned per-channel strength (init 0, as in StyleGAN2).

    The noise is an input, not drawn inside: the generator takes one (B, H, W, n_layers) noise tensor at the
    output resolution and layer ``index`` reads channel ``index`` every ``stride`` pixels (a subsample of
    i.i.d. N(0, 1) is again N(0, 1)). A caller that fixes the noise therefore gets a deterministic generator,
    which the style bank needs to give both fields of view of one sample the same style.
    """

    def __init__(self, index: int, stride: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.index = int(index)
        self.stride = int(stride)

    def build(self, inputs_shape, noise_shape) -> None:
        self.strength = self.add_weight(shape=(int(inputs_shape[-1]),), name="strength", initializer="zeros")

    def call(self, inputs, noise):
        s = self.stride
        picked = ops.cast(noise[:, ::s, ::s, self.index : self.index + 1], inputs.dtype)
        return inputs + picked * self.strength

    def compute_output_shape(self, inputs_shape, noise_shape):
        return tuple(inputs_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "index": self.index, "stride": self.stride}


@keras.saving.register_keras_serializable(package="hookseg")
class DomainEmbedding(layers.Layer):
    """Learned vector per domain index; (B,) or (B, 1) int -> (B, dim)."""

    def __init__(self, num_domains: int, dim: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_domains = int(num_domains)
        self.dim = int(dim)

    def build(self, input_shape) -> None:
        self.embeddings = self.add_weight(shape=(self.num_domains, self.dim), name="embeddings",
                                          initializer=keras.initializers.RandomNormal(stddev=1.0))

    def call(self, domain):
        index = ops.reshape(ops.cast(domain, "int32"), (-1,))
        return ops.take(self.embeddings, index, axis=0)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_domains": self.num_domains, "dim": self.dim}


@keras.saving.register_keras_serializable(package="hookseg")
class MappingNetwork(layers.Layer):
    """z (B, z_dim) + target domain (B,) -> w (B, w_dim): StyleGAN's MLP, conditioned like StyleGAN2-ADA.

    z and the domain embedding are each normalised to unit second moment and concatenated; the MLP runs at
    a 0.01 learning-rate multiplier so the style space moves slowly relative to the synthesis layers.
    """

    def __init__(self, num_domains: int, z_dim: int, w_dim: int, num_layers: int = 4,
                 lr_multiplier: float = 0.01, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_domains = int(num_domains)
        self.z_dim = int(z_dim)
        self.w_dim = int(w_dim)
        self.num_layers = int(num_layers)
        self.lr_multiplier = float(lr_multiplier)
        self.embed = DomainEmbedding(self.num_domains, self.z_dim, name="embed")
        self.dense = [EqualDense(self.w_dim, self.lr_multiplier, activation="leaky_relu", name=f"fc{i}")
                      for i in range(self.num_layers)]

    def build(self, z_shape, domain_shape) -> None:
        self.embed.build(domain_shape)
        shape = (z_shape[0], 2 * self.z_dim)
        for dense in self.dense:
            dense.build(shape)
            shape = dense.compute_output_shape(shape)

    def call(self, z, domain):
        def normalise(v):
            return v * ops.rsqrt(ops.mean(ops.square(v), axis=-1, keepdims=True) + EPSILON)

        x = ops.concatenate([normalise(z), normalise(self.embed(domain))], axis=-1)
        for dense in self.dense:
            x = dense(x)
        return x

    def compute_output_shape(self, z_shape, domain_shape):
        return (z_shape[0], self.w_dim)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_domains": self.num_domains, "z_dim": self.z_dim,
                "w_dim": self.w_dim, "num_layers": self.num_layers, "lr_multiplier": self.lr_multiplier}


@keras.saving.register_keras_serializable(package="hookseg")
class Projection(layers.Layer):
    """Projection-discriminator term <embed(domain), features> (Miyato & Koyama 2018); (B, 1)."""

    def __init__(self, num_domains: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_domains = int(num_domains)

    def build(self, features_shape, domain_shape) -> None:
        self.embeddings = self.add_weight(shape=(self.num_domains, int(features_shape[-1])),
                                          name="embeddings", initializer="glorot_uniform")

    def call(self, features, domain):
        index = ops.reshape(ops.cast(domain, "int32"), (-1,))
        return ops.sum(ops.take(self.embeddings, index, axis=0) * features, axis=-1, keepdims=True)

    def compute_output_shape(self, features_shape, domain_shape):
        return (features_shape[0], 1)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_domains": self.num_domains}


@keras.saving.register_keras_serializable(package="hookseg")
class ResidualTanh(layers.Layer):
    """``tanh(atanh(image) + delta)``: the generator edits the source instead of redrawing it.

    Why: an untrained generator then returns (nearly) its input, so the SSIM term starts near 1 and the
    adversarial game is about colour from the first step; the tanh keeps the output in [-1, 1], so the
    discriminator cannot win on out-of-range pixels (a linear output collapsed after ~550 demo steps).
    """

    def __init__(self, limit: float = 0.995, **kwargs) -> None:
        super().__init__(**kwargs)
        self.limit = float(limit)

    def call(self, image, delta):
        image = ops.clip(ops.cast(image, delta.dtype), -self.limit, self.limit)
        return ops.tanh(ops.arctanh(image) + delta)

    def compute_output_shape(self, image_shape, delta_shape):
        return tuple(image_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "limit": self.limit}

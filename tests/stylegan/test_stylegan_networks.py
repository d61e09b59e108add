"""StyleGAN2 layers and networks: demodulation, modulated conv == per-sample kernel, shapes, saving."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest
from keras import ops

from stylegan_aug.layers import ModulatedConv2D, NoiseInjection, ResidualTanh, modulated_kernel
from stylegan_aug.networks import (
    build_discriminator,
    build_generator,
    num_noise_layers,
    size_multiple,
)

CHANNELS = (8, 16, 16)


def _inputs(batch: int, size: int, z_dim: int, channels=CHANNELS, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, (batch, size, size, 3)).astype(np.float32),
            rng.standard_normal((batch, z_dim)).astype(np.float32),
            (np.arange(batch) % 2).astype(np.int32),
            rng.standard_normal((batch, size, size, num_noise_layers(channels))).astype(np.float32)]


def test_demodulation_gives_unit_norm_per_output_channel():
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((3, 3, 5, 7)).astype(np.float32)
    styles = rng.uniform(0.1, 4.0, (4, 5)).astype(np.float32)
    weight = ops.convert_to_numpy(modulated_kernel(kernel, styles, demodulate=True))
    norms = np.sqrt((weight**2).sum(axis=(1, 2, 3)))
    np.testing.assert_allclose(norms, 1.0, rtol=1e-5)
    raw = ops.convert_to_numpy(modulated_kernel(kernel, styles, demodulate=False))
    assert not np.allclose(np.sqrt((raw**2).sum(axis=(1, 2, 3))), 1.0)  # only demodulation normalises


@pytest.mark.parametrize("demodulate", [True, False])
def test_modulated_conv_equals_conv_with_the_per_sample_kernel(demodulate):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 10, 12, 4)).astype(np.float32)
    w = rng.standard_normal((3, 6)).astype(np.float32)
    layer = ModulatedConv2D(5, 3, demodulate=demodulate, use_bias=False)
    out = ops.convert_to_numpy(layer(x, w))
    styles = layer.styles(w)
    kernels = ops.convert_to_numpy(modulated_kernel(layer.kernel * layer.weight_gain, styles, demodulate))
    expected = np.concatenate([ops.convert_to_numpy(ops.conv(x[i : i + 1], kernels[i], padding="same"))
                               for i in range(3)])
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    if demodulate:  # unit-variance input -> roughly unit-variance output, whatever the style's scale
        big = ops.convert_to_numpy(layer(x, 30 * w))
        assert 0.3 < big.std() < 3.0


def test_noise_injection_reads_its_channel_at_its_stride():
    layer = NoiseInjection(index=1, stride=2)
    x = np.zeros((1, 4, 4, 3), np.float32)
    noise = np.random.default_rng(0).standard_normal((1, 8, 8, 2)).astype(np.float32)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(x, noise)), x)  # strength starts at 0
    layer.strength.assign(np.array([1.0, 2.0, 0.0], np.float32))
    out = ops.convert_to_numpy(layer(x, noise))
    np.testing.assert_allclose(out[0, ..., 1], 2 * noise[0, ::2, ::2, 1], rtol=1e-6)


def test_residual_output_edits_the_source_within_range():
    image = np.random.default_rng(0).uniform(-0.99, 0.99, (2, 8, 8, 3)).astype(np.float32)
    layer = ResidualTanh()
    np.testing.assert_allclose(ops.convert_to_numpy(layer(image, np.zeros_like(image))), image, atol=1e-5)
    pushed = ops.convert_to_numpy(layer(image, np.full_like(image, 50.0)))
    assert pushed.max() <= 1.0 and pushed.min() > 0.99  # bounded however large the edit


def test_generator_and_discriminator_shapes_and_determinism():
    g = build_generator(2, CHANNELS, z_dim=8, w_dim=8, mapping_layers=2)
    d = build_discriminator(2, CHANNELS)
    assert size_multiple(CHANNELS) == 4
    for size in (16, 24):  # fully convolutional: any multiple of 4
        inputs = _inputs(2, size, 8)
        out = ops.convert_to_numpy(g(inputs))
        assert out.shape == (2, size, size, 3)
        np.testing.assert_array_equal(out, ops.convert_to_numpy(g(inputs)))  # fixed z + noise: deterministic
        assert ops.convert_to_numpy(d([inputs[0], inputs[2]])).shape == (2, 1)
    plain = build_generator(1, CHANNELS, z_dim=8, w_dim=8, mapping_layers=2, residual=False)
    assert "residual" not in {x.name for x in plain.layers}
    assert "residual" in {x.name for x in g.layers}
    a, b = _inputs(2, 16, 8, seed=0), _inputs(2, 16, 8, seed=0)
    b[2] = 1 - b[2]  # another target domain -> another style
    assert not np.allclose(ops.convert_to_numpy(g(a)), ops.convert_to_numpy(g(b)))


def test_generator_round_trips_through_keras_file(tmp_path):
    g = build_generator(1, CHANNELS, z_dim=8, w_dim=8, mapping_layers=2)
    inputs = _inputs(1, 16, 8)
    inputs[2][:] = 0
    path = tmp_path / "g.keras"
    g.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    expected = ops.convert_to_numpy(g(inputs))
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(inputs)), expected, atol=1e-6)


def test_invalid_widths_are_refused():
    with pytest.raises(ValueError, match="channels"):
        build_generator(1, (8,))
    with pytest.raises(ValueError, match="num_domains"):
        build_discriminator(0, CHANNELS)

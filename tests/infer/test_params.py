"""``configs/infer.yaml`` is the one source of the prediction settings: no value is restated in code."""

from __future__ import annotations

import pytest

from hookseg.errors import ConfigError
from hookseg.infer.params import DEFAULT_CONFIG, Hysteresis, InferParams


def test_default_params_are_the_file_read_once():
    assert InferParams.load() == InferParams.from_yaml(DEFAULT_CONFIG)
    assert InferParams.load() is InferParams.load(DEFAULT_CONFIG)  # cached per path


def test_every_key_is_required_and_no_other_is_accepted(tmp_path):
    bad = tmp_path / "infer.yaml"
    bad.write_text("infer:\n  overlap: 0.25\n")
    with pytest.raises(ConfigError, match=r"infer\.batch_size: required key is missing"):
        InferParams.from_yaml(bad)
    text = DEFAULT_CONFIG.read_text()
    bad.write_text(text.replace("hysteresis: null", "hysteresis: {low: 0.3, high: 0.6}"))
    with pytest.raises(ConfigError, match=r"infer\.hysteresis: .*low"):  # nothing reads a low threshold
        InferParams.from_yaml(bad)
    bad.write_text(text + "tiling: {}\n")
    with pytest.raises(ConfigError, match=r"one top-level key 'infer'. Received: \['infer', 'tiling'\]"):
        InferParams.from_yaml(bad)


def test_hysteresis_reads_its_high_threshold(tmp_path):
    path = tmp_path / "infer.yaml"
    path.write_text(DEFAULT_CONFIG.read_text().replace("hysteresis: null", "hysteresis: {high: 0.6}"))
    assert InferParams.load(path).hysteresis == Hysteresis(high=0.6)

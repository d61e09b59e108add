"""Training: one step moves G and D, outputs + MLflow artifacts, checkpoint resume, config loading."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from hookseg.cohort import read_manifest
from hookseg.errors import ConfigError
from stylegan_aug.checkpoint import load_checkpoint
from stylegan_aug.config import DEFAULT_CONFIG, load_config
from stylegan_aug.networks import build_discriminator, build_generator
from stylegan_aug.step_tf import TFGANSteps
from stylegan_aug.train import train_stylegan
from tests.stylegan.conftest import tiny_config


def _snapshot(model: keras.Model) -> list[np.ndarray]:
    return [np.array(v) for v in model.weights]


def test_one_train_step_changes_both_networks():
    g = build_generator(2, (8, 16), z_dim=8, w_dim=8, mapping_layers=1)
    d = build_discriminator(2, (8, 16))
    steps = TFGANSteps(g, d, keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), ssim_weight=1.0,
                       r1_gamma=1.0, r1_every=1, eager=True)
    rng = np.random.default_rng(0)
    src = rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
    real = rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
    z = rng.standard_normal((2, 8)).astype(np.float32)
    noise = rng.standard_normal((2, 16, 16, 4)).astype(np.float32)
    domain = np.array([0, 1], np.int32)
    g0, d0 = _snapshot(g), _snapshot(d)
    d_values = steps.discriminator_step(src, real, z, domain, noise, step=0)
    assert all(np.array_equal(a, b) for a, b in zip(g0, _snapshot(g), strict=True))  # D step leaves G alone
    d1 = _snapshot(d)
    g_values = steps.generator_step(src, z, domain, noise)
    assert all(np.array_equal(a, b) for a, b in zip(d1, _snapshot(d), strict=True))  # G step leaves D alone
    assert all(not np.array_equal(a, b) for a, b in zip(d0, d1, strict=True))
    assert all(not np.array_equal(a, b) for a, b in zip(g0, _snapshot(g), strict=True))
    assert d_values["r1"] > 0 and np.isfinite(d_values["d_loss"])
    assert 0 <= g_values["ssim"] <= 1 and np.isfinite(g_values["g_loss"])


def test_training_writes_its_outputs_and_logs_to_mlflow(trained_generator):
    out = trained_generator
    for name in ("generator.keras", "stylegan.json", "metrics.json", "checkpoint.npz", "samples/final.png",
                 "samples/step_000002.png", "mlflow_run_id"):
        assert (out / name).is_file(), name
    meta = json.loads((out / "stylegan.json").read_text())
    assert meta["source"] == "DS1" and meta["targets"] == ["DS3"] and meta["steps"] == 2
    report = json.loads((out / "metrics.json").read_text())["targets"]["DS3"]
    assert set(report) >= {"ssim_mean", "color_source_target", "color_output_target", "color_target_target"}
    # The fixture's two domains differ in colour only: the floor is far below source -> target.
    assert report["color_target_target"] < report["color_source_target"] / 3

    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{out.parent / 'mlflow.db'}")
    run = client.get_run((out / "mlflow_run_id").read_text().strip())
    assert run.data.tags["stage"] == "stylegan"
    assert "eval/DS3/ssim_mean" in run.data.metrics and "d_loss" in run.data.metrics
    assert {a.path for a in client.list_artifacts(run.info.run_id, "samples")} >= {"samples/final.png"}


def test_training_resumes_from_its_checkpoint(trained_generator, two_domain_manifest, tmp_path):
    out = tmp_path / "resumed"
    out.mkdir()
    (out / "checkpoint.npz").write_bytes((trained_generator / "checkpoint.npz").read_bytes())
    manifest = read_manifest(two_domain_manifest)
    result = train_stylegan(tiny_config(3), manifest, "DS1", ["DS3"], out, track=False)
    metrics = json.loads((out / "metrics.json").read_text())
    assert result.steps == 3 and metrics["steps"] == 3 and metrics["steps_this_run"] == 1
    # A fresh model loads the resumed checkpoint exactly.
    g, g_ema = (build_generator(1, (8, 16), z_dim=8, w_dim=8, mapping_layers=1) for _ in range(2))
    d = build_discriminator(1, (8, 16))
    g_opt, d_opt = keras.optimizers.Adam(), keras.optimizers.Adam()
    g_opt.build(g.trainable_variables)
    d_opt.build(d.trainable_variables)
    groups = {"g": g.weights, "g_ema": g_ema.weights, "d": d.weights, "g_opt": g_opt.variables,
              "d_opt": d_opt.variables}
    step, state = load_checkpoint(out / "checkpoint.npz", groups)
    assert step == 3 and state["rng"]["bit_generator"] == "PCG64"
    assert state["seconds"] == pytest.approx(metrics["train_seconds"], abs=0.1)
    assert metrics["train_seconds"] > metrics["seconds_this_run"]  # the first run's time is carried over
    assert int(np.array(g_opt.iterations)) == 3
    loaded = keras.saving.load_model(out / "generator.keras", safe_mode=True, compile=False)
    for a, b in zip(loaded.weights, g_ema.weights, strict=True):  # the export is the EMA generator
        np.testing.assert_array_equal(np.array(a), np.array(b))
    pairs = zip(g.weights, g_ema.weights, strict=True)
    assert any(not np.array_equal(np.array(a), np.array(b)) for a, b in pairs)
    other = build_generator(1, (8, 8), z_dim=8, w_dim=8, mapping_layers=1)
    with pytest.raises(ConfigError, match="shape"):
        load_checkpoint(out / "checkpoint.npz", {**groups, "g": other.weights})


def test_config_profiles_load_and_validate(tmp_path):
    demo = load_config(profile="demo")
    paper = load_config(profile="paper")
    assert demo.data.size % 2 ** (len(demo.model.channels) - 1) == 0
    assert paper.data.size > demo.data.size and paper.model.z_dim == 512
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_CONFIG.read_text().replace("size: 64", "size: 60", 1))  # demo's size
    with pytest.raises(ConfigError, match="multiple of 8"):
        load_config(bad, "demo")
    with pytest.raises(ConfigError, match="no profile"):
        load_config(profile="huge")

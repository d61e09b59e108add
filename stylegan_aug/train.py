"""Train one source -> target(s) StyleGAN: patch pools, the GAN loop, checkpoints, MLflow, export, evaluation.

Output folder::

    checkpoint.npz      resumable state (G, D, optimizers, step, batch RNG); rerun with the same --out
    generator.keras     the EMA generator alone (loads with safe_mode=True); what the style bank uses
    stylegan.json       source, targets, z_dim, noise layers, patch size/mpp, config, training time
    metrics.json        per target: SSIM(output, source) and Lab colour distances (see metrics.py)
    samples/            sample grids (source | styled per target | real target); also MLflow artifacts
    mlflow_run_id       the MLflow run a resumed training keeps logging into
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hookseg.cohort import Manifest
from hookseg.io import atomic_path, write_json
from stylegan_aug.bank import GENERATOR_FILE, META_FILE, META_FORMAT, stylise
from stylegan_aug.checkpoint import CHECKPOINT_FILE, load_checkpoint, save_checkpoint
from stylegan_aug.config import StyleGANConfig
from stylegan_aug.data import DomainSpec, domain_records, random_dihedral, sample_patches, to_unit
from stylegan_aug.gallery import image_grid, write_png
from stylegan_aug.metrics import transfer_report
from stylegan_aug.networks import build_discriminator, build_generator, num_noise_layers, size_multiple

log = logging.getLogger(__name__)

GRID_COLUMNS = 6


@dataclass
class Pools:
    """uint8 patches: training pools, and held-out evaluation draws (a second target draw = the floor)."""

    source: np.ndarray
    targets: list[np.ndarray]
    eval_source: np.ndarray
    eval_targets: list[np.ndarray]
    eval_references: list[np.ndarray]


@dataclass
class TrainResult:
    out: Path
    steps: int
    seconds: float
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)


def load_pools(config: StyleGANConfig, manifest: Manifest, source: DomainSpec,
               targets: Sequence[DomainSpec]) -> Pools:
    d, seed = config.data, config.train.seed
    src_records = domain_records(manifest, source, d.splits)
    tgt_records = [domain_records(manifest, t, d.splits) for t in targets]

    def draw(records, n: int, *key: int) -> np.ndarray:
        rng = np.random.default_rng([seed, *key])
        return sample_patches(records, n, d.size, d.mpps, rng, min_tissue=d.min_tissue)

    return Pools(
        source=draw(src_records, d.pool, 0, 0),
        targets=[draw(r, d.pool, 0, i + 1) for i, r in enumerate(tgt_records)],
        eval_source=draw(src_records, d.eval_patches, 1, 0),
        eval_targets=[draw(r, d.eval_patches, 1, i + 1) for i, r in enumerate(tgt_records)],
        eval_references=[draw(r, d.eval_patches, 2, i + 1) for i, r in enumerate(tgt_records)],
    )


def _metric_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_./ -]", "_", text)


class _Tracker:
    """MLflow when tracking is on, else nothing; the loop never branches on it."""

    def __init__(self, run: Any | None) -> None:
        self.run = run

    def metrics(self, values: dict[str, float], step: int) -> None:
        if self.run is not None:
            import mlflow

            mlflow.log_metrics({_metric_name(k): float(v) for k, v in values.items()}, step=step)

    def artifact(self, path: Path, folder: str | None = None) -> None:
        if self.run is not None:
            import mlflow

            mlflow.log_artifact(str(path), artifact_path=folder)


class Trainer:
    """Holds the models, the optimizers, the pools and the batch RNG of one training run."""

    def __init__(self, config: StyleGANConfig, pools: Pools, source: DomainSpec,
                 targets: Sequence[DomainSpec], out: Path) -> None:
        import keras

        from stylegan_aug.step_tf import TFGANSteps

        self.config, self.pools, self.out = config, pools, out
        self.source, self.targets = source, list(targets)
        m, t = config.model, config.train
        keras.utils.set_random_seed(t.seed)
        self.generator = build_generator(len(targets), m.channels, m.z_dim, m.w_dim, m.mapping_layers,
                                         m.residual)
        self.generator_ema = build_generator(len(targets), m.channels, m.z_dim, m.w_dim, m.mapping_layers,
                                             m.residual, name="generator_ema")
        self.generator_ema.set_weights(self.generator.get_weights())
        self.discriminator = build_discriminator(len(targets), m.d_channels)
        self.g_optimizer = keras.optimizers.Adam(t.g_lr, beta_1=t.beta_1, beta_2=t.beta_2, epsilon=1e-8)
        self.d_optimizer = keras.optimizers.Adam(t.d_lr, beta_1=t.beta_1, beta_2=t.beta_2, epsilon=1e-8)
        self.steps = TFGANSteps(self.generator, self.discriminator, self.g_optimizer, self.d_optimizer,
                                ssim_weight=t.ssim_weight, r1_gamma=t.r1_gamma, r1_every=t.r1_every,
                                generator_ema=self.generator_ema, eager=t.eager)
        self.noise_layers = num_noise_layers(m.channels)
        self.rng = np.random.default_rng([t.seed, 3])
        self.step = 0
        self.seconds_before = 0.0  # training time of earlier runs of a resumed training

    # --- state -----------------------------------------------------------------------------------------
    def _groups(self) -> dict[str, list]:
        return {"g": self.generator.weights, "g_ema": self.generator_ema.weights,
                "d": self.discriminator.weights,
                "g_opt": self.g_optimizer.variables, "d_opt": self.d_optimizer.variables}

    def restore(self) -> bool:
        path = self.out / CHECKPOINT_FILE
        if not path.is_file():
            return False
        self.step, state = load_checkpoint(path, self._groups())
        self.rng.bit_generator.state = state["rng"]
        self.seconds_before = float(state["seconds"])
        return True

    def save(self, seconds: float) -> Path:
        """Checkpoint; ``seconds`` is the training time of this run so far."""
        state = {"rng": self.rng.bit_generator.state, "seconds": self.seconds_before + seconds}
        return save_checkpoint(self.out / CHECKPOINT_FILE, self.step, state, self._groups())

    def ema_beta(self) -> float:
        """The configured beta, ramped up over the first steps (an average of few early steps is noise)."""
        return min(self.config.train.ema_beta, (1.0 + self.step) / (10.0 + self.step))

    # --- one iteration ---------------------------------------------------------------------------------
    def _noise(self, batch: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        z = self.rng.standard_normal((batch, self.config.model.z_dim)).astype(np.float32)
        return z, self.rng.standard_normal((batch, size, size, self.noise_layers)).astype(np.float32)

    def train_step(self) -> dict[str, float]:
        batch, size = self.config.train.batch_size, self.config.data.size
        rng, pools = self.rng, self.pools
        source = random_dihedral(pools.source[rng.integers(len(pools.source), size=batch)], rng)
        domain = rng.integers(len(pools.targets), size=batch).astype(np.int32)
        real = np.stack([pools.targets[d][rng.integers(len(pools.targets[d]))] for d in domain])
        real = random_dihedral(real, rng)
        src = to_unit(source)
        z, noise = self._noise(batch, size)
        values = self.steps.discriminator_step(src, to_unit(real), z, domain, noise, self.step)
        z, noise = self._noise(batch, size)
        values.update(self.steps.generator_step(src, z, domain, noise, self.ema_beta()))
        self.step += 1
        return values

    # --- outputs ---------------------------------------------------------------------------------------
    def stylise(self, images: np.ndarray, target: int, seed: int) -> np.ndarray:
        domains = np.full(len(images), target, np.int32)
        rng = np.random.default_rng([self.config.train.seed, seed])
        return stylise(self.generator_ema, images, domains, rng,
                       z_dim=self.config.model.z_dim, noise_layers=self.noise_layers,
                       multiple=size_multiple(self.config.model.channels))

    def sample_grid(self) -> np.ndarray:
        src = self.pools.eval_source[:GRID_COLUMNS]
        rows, labels = [src], [f"source\n{self.source.name}"]
        for i, target in enumerate(self.targets):
            rows += [self.stylise(src, i, 100 + i), self.pools.eval_targets[i][:GRID_COLUMNS]]
            labels += [f"styled\n-> {target.name}", f"real target\n{target.name}"]
        return image_grid(rows, labels, cell=max(96, self.config.data.size))

    def evaluate(self) -> dict[str, dict[str, float]]:
        p = self.pools
        return {
            target.name: transfer_report(p.eval_source, self.stylise(p.eval_source, i, 200 + i),
                                         p.eval_targets[i], p.eval_references[i], seed=self.config.train.seed)
            for i, target in enumerate(self.targets)
        }

    def export(self, seconds: float) -> Path:
        with atomic_path(self.out / GENERATOR_FILE) as tmp:
            self.generator_ema.save(tmp)
        m, d = self.config.model, self.config.data
        write_json(self.out / META_FILE, {
            "format": META_FORMAT, "source": self.source.name, "targets": [t.name for t in self.targets],
            "z_dim": m.z_dim, "noise_layers": self.noise_layers, "size_multiple": size_multiple(m.channels),
            "size": d.size, "mpps": list(d.mpps), "steps": self.step, "train_seconds": round(seconds, 1),
            "config": self.config.to_dict(),
        })
        return self.out / GENERATOR_FILE


def train_stylegan(config: StyleGANConfig, manifest: Manifest, source: str, targets: Sequence[str],
                   out: str | Path, *, track: bool = True, time_budget_s: float | None = None) -> TrainResult:
    """Train (or resume) ``source`` -> ``targets`` into ``out``; stops at ``train.steps`` or the budget."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    source_spec = DomainSpec.parse(source)
    target_specs = [DomainSpec.parse(t) for t in targets]
    if not target_specs:
        msg = "train_stylegan needs at least one target domain. Received: targets=[]"
        raise ValueError(msg)
    t0 = time.perf_counter()
    pools = load_pools(config, manifest, source_spec, target_specs)
    log.info("pools: %s %d patches, targets %s (%.1f s)", source_spec.name, len(pools.source),
             [f"{t.name}: {len(p)}" for t, p in zip(target_specs, pools.targets, strict=True)],
             time.perf_counter() - t0)
    trainer = Trainer(config, pools, source_spec, target_specs, out)
    if trainer.restore():
        log.info("resuming at step %d of %d", trainer.step, config.train.steps)
    run_config = {**config.to_dict(), "source": source_spec.name, "targets": [t.name for t in target_specs]}
    context: contextlib.AbstractContextManager[Any] = contextlib.nullcontext(None)
    if track:
        from hookseg.tracking import start_run

        context = start_run(stage="stylegan", config=run_config, run_id_file=out / "mlflow_run_id",
                            tags={"source": source_spec.name, "targets": ",".join(run_config["targets"])})
    with context as run:
        tracker = _Tracker(run)
        return _loop(trainer, tracker, time_budget_s)


def _loop(trainer: Trainer, tracker: _Tracker, time_budget_s: float | None) -> TrainResult:
    t = trainer.config.train
    start = time.perf_counter()
    first_step = trainer.step
    last, last_step = start, first_step
    while trainer.step < t.steps:
        values = trainer.train_step()
        if trainer.step % t.log_every == 0 or trainer.step == first_step + 1:
            now = time.perf_counter()
            log.info("step %d/%d %s (%.2f s/step)", trainer.step, t.steps,
                     " ".join(f"{k}={v:.3f}" for k, v in values.items()),
                     (now - last) / (trainer.step - last_step))
            last, last_step = now, trainer.step
            tracker.metrics(values, trainer.step)
        if trainer.step % t.checkpoint_every == 0:
            trainer.save(time.perf_counter() - start)
        if trainer.step % t.sample_every == 0:
            tracker.artifact(write_png(trainer.out / "samples" / f"step_{trainer.step:06d}.png",
                                       trainer.sample_grid()), "samples")
        if time_budget_s is not None and time.perf_counter() - start > time_budget_s:
            log.info("time budget of %.0f s reached at step %d", time_budget_s, trainer.step)
            break
    run_seconds = time.perf_counter() - start
    trainer.save(run_seconds)
    seconds = trainer.seconds_before + run_seconds
    trainer.export(seconds)
    tracker.artifact(write_png(trainer.out / "samples" / "final.png", trainer.sample_grid()), "samples")
    metrics = trainer.evaluate()
    write_json(trainer.out / "metrics.json", {
        "steps": trainer.step, "train_seconds": round(seconds, 1),
        "steps_this_run": trainer.step - first_step, "seconds_this_run": round(run_seconds, 1),
        "targets": metrics,
    })
    flat = {f"eval/{name}/{k}": v for name, report in metrics.items() for k, v in report.items()}
    tracker.metrics({**flat, "train_seconds": seconds}, trainer.step)
    for name in (META_FILE, "metrics.json"):
        tracker.artifact(trainer.out / name)
    log.info("%s: %d steps in %.0f s; %s", trainer.out, trainer.step, seconds, metrics)
    return TrainResult(trainer.out, trainer.step, seconds, metrics)

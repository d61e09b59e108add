"""A two-domain cohort of small real pyramidal TIFFs, and a tiny generator trained on it once per session."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import numpy as np
import pytest

from hookseg.slides import write_pyramid
from stylegan_aug.config import DataConfig, ModelConfig, StyleGANConfig, TrainConfig
from tests.factories import write_manifest_rows

# Each domain: (nucleus colour, stroma colour); glass is 245 everywhere outside a tissue disc.
DOMAINS = {"DS1": ((70, 60, 150), (200, 180, 220)), "DS3": ((150, 40, 80), (235, 160, 190))}
SIZE = 512  # px at 1 um/px


def _tissue(seed: int, nucleus: tuple[int, ...], stroma: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    image = np.full((SIZE, SIZE, 3), 245, np.uint8)
    disc = (yy - SIZE / 2) ** 2 + (xx - SIZE / 2) ** 2 < (0.4 * SIZE) ** 2
    image[disc] = stroma
    for y, x in rng.integers(0, SIZE, (400, 2)):
        nuclei = ((yy - y) ** 2 + (xx - x) ** 2 < 16) & disc
        image[nuclei] = nucleus
    noise = rng.integers(-8, 9, image.shape)
    return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def two_domain_manifest(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stylegan_cohort")
    rows = []
    for number, (source, (nucleus, stroma)) in enumerate(DOMAINS.items()):
        image = _tissue(number, nucleus, stroma)
        path = write_pyramid(folder / f"{source}.tif", (SIZE, SIZE),
                             lambda x, y, w, h, image=image: image[y : y + h, x : x + w], mpp=1.0)
        rows.append({"slide_id": source, "path": path.name, "stain": "ER", "scanner": "AB"[number],
                     "source": source, "split": "train", "patient_id": f"P{number}", "annotations": ""})
    return write_manifest_rows(folder / "manifest.csv", rows)


def tiny_config(steps: int = 2) -> StyleGANConfig:
    return StyleGANConfig(
        data=DataConfig(size=32, mpps=(2.0,), pool=16, eval_patches=8, splits=("train",), min_tissue=0.3),
        model=ModelConfig(channels=(8, 16), d_channels=(8, 16), z_dim=8, w_dim=8, mapping_layers=1,
                          residual=True),
        train=TrainConfig(steps=steps, batch_size=4, g_lr=0.002, d_lr=0.002, beta_1=0.0, beta_2=0.99,
                          ssim_weight=2.0, r1_gamma=0.1, r1_every=2, ema_beta=0.99, log_every=1,
                          sample_every=2, checkpoint_every=1, seed=0, eager=True),
    )


@pytest.fixture(scope="session")
def trained_generator(tmp_path_factory, two_domain_manifest) -> Path:
    """DS1 -> DS3 after 2 steps, tracked in a throwaway MLflow store."""
    from hookseg.cohort import read_manifest
    from stylegan_aug.train import train_stylegan

    out = tmp_path_factory.mktemp("stylegan_run")
    old = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{out / 'mlflow.db'}"
    try:
        train_stylegan(tiny_config(2), read_manifest(two_domain_manifest), "DS1", ["DS3"], out / "g")
    finally:
        if old is None:
            os.environ.pop("MLFLOW_TRACKING_URI")
        else:
            os.environ["MLFLOW_TRACKING_URI"] = old
    return out / "g"

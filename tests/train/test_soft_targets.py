"""Soft-target phases: batches that mix manual patches with tissue labelled by a teacher's softmax, the loss
and metric on distributions. The teacher labels band colours, so its answer on the clean view is known and
the alignment of views and targets can be checked exactly. ``hookseg train --teacher`` end to end runs in the
DVC pipeline test (its p2 is a soft phase)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.factories import banded_cohort, nearest_colour_model

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    return banded_cohort(tmp_path_factory.mktemp("cohort"), {"a": "train", "b": "train", "c": "val"})


@pytest.fixture(scope="module")
def teachers(tmp_path_factory) -> dict[str, Path]:
    """Band-colour teachers with the smoke master's target view: one dual-input (with a context output),
    one single-input (as the base U-Net is), one whose view does not match."""
    from hookseg.model_io import ModelMeta, save_model
    from hookseg.sampling import FieldOfView

    folder = tmp_path_factory.mktemp("teachers")
    views = {"dual": (64, True, FieldOfView(size=64, mpp=2.0, context_size=64, context_mpp=4.0)),
             "single": (64, False, FieldOfView(size=64, mpp=2.0, context_mpp=None)),
             "wrong": (32, False, FieldOfView(size=32, mpp=2.0, context_mpp=None))}
    return {name: save_model(nearest_colour_model(size, context), folder / f"{name}.keras",
                             ModelMeta(fov, stage="test"))
            for name, (size, context, fov) in views.items()}


def soft_dataset(cohort: Path, teacher: Path, work: Path, augment: list[str], share: float = 0.5,
                 soft_augment: list[str] | None = None):
    """The smoke master's training batches (batch 8) with ``share`` teacher-labelled; slide b has no manual
    labels, so only the teacher labels it."""
    from hookseg.cohort import read_manifest
    from hookseg.train.augment_hook import build_augment
    from hookseg.train.config import load_stage_config
    from hookseg.train.loop import make_datasets
    from hookseg.train.soft_targets import soft_batches

    config = load_stage_config(REPO / "configs" / "smoke.yaml", "master").with_train(
        batch_size=8, augment=augment)
    manifest = read_manifest(cohort)
    labels = {"a": cohort.parent / "labels" / "a.tiff", "c": cohort.parent / "labels" / "c.tiff"}
    manual, _ = make_datasets(config, manifest, labels, work, build_augment(config), 3)
    return soft_batches(manual, config, manifest, labels, teacher, share, 3, soft_augment)


@pytest.mark.parametrize("kind", ["dual", "single"])
def test_teacher_part_is_aligned_with_the_students_view(kind, cohort, teachers, tmp_path):
    """Without colour presets the student's view is the clean view turned: the teacher's answer on what the
    student sees must be the target (a turn of one and not the other would fail: the bands are vertical)."""
    from hookseg.model_io import load_model_cached

    dataset = soft_dataset(cohort, teachers[kind], tmp_path, ["basic"])
    assert (dataset.soft_size, dataset.manual.batch_size, len(dataset.pool)) == (4, 4, 2)
    assert dataset.augment is None  # `basic` only warps: nothing left for the teacher-labelled patches
    x, y = dataset[1]
    assert x["target"].shape == x["context"].shape == (8, 64, 64, 3)
    assert y["final"].shape == y["context"].shape == (8, 64, 64, 3)
    manual, soft = y["final"][:4], y["final"][4:]
    assert set(np.unique(manual)) <= {0.0, 1.0} and set(np.unique(manual.sum(-1))) <= {0.0, 1.0}
    np.testing.assert_allclose(soft.sum(-1), 1.0, atol=1e-5)  # every tissue-patch pixel has a target

    teacher, _ = load_model_cached(teachers[kind])
    inputs = {"target": x["target"][4:]} | ({"context": x["context"][4:]} if kind == "dual" else {})
    again = teacher.predict_on_batch(inputs)
    assert (again["final"].argmax(-1) == soft.argmax(-1)).mean() > 0.99
    if kind == "dual":  # the teacher's context output is the context target
        assert (again["context"].argmax(-1) == y["context"][4:].argmax(-1)).mean() > 0.99


def test_same_batch_again_is_identical_and_epochs_differ(cohort, teachers, tmp_path):
    dataset = soft_dataset(cohort, teachers["dual"], tmp_path, ["basic", "color_noise"])
    assert dataset.augment is not None
    first, again = dataset[0], dataset[0]
    for part in (0, 1):
        for key in first[part]:
            assert np.array_equal(first[part][key], again[part][key]), key
    dataset.set_epoch(1)
    assert dataset.manual.epoch == 1
    assert not np.array_equal(dataset[0][0]["target"][4:], first[0]["target"][4:])


def test_soft_augment_recolours_the_teacher_labelled_half_only(cohort, teachers, tmp_path):
    """--soft-augment: a strong recolouring of the student's view of teacher-labelled tissue, while the
    manual half keeps the stage's own presets: same manual patches, same soft targets, other soft views."""
    plain = soft_dataset(cohort, teachers["dual"], tmp_path / "plain", ["basic"])
    recoloured = soft_dataset(cohort, teachers["dual"], tmp_path / "recoloured", ["basic"],
                              soft_augment=["heavy_color"])
    assert plain.augment is None and recoloured.augment is not None
    (x0, y0), (x1, y1) = plain[0], recoloured[0]
    for key in ("target", "context"):
        np.testing.assert_array_equal(x0[key][:4], x1[key][:4])  # the manual half is untouched
        assert np.abs(x0[key][4:].astype(float) - x1[key][4:].astype(float)).mean() > 1.0
    for key in y0:
        np.testing.assert_array_equal(y0[key], y1[key])  # targets come from the clean view


def test_soft_augment_with_a_warping_preset_is_a_one_line_error(cohort, teachers, tmp_path):
    from hookseg.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^--soft-augment: expected colour-only presets .*\['basic'\]$"):
        soft_dataset(cohort, teachers["dual"], tmp_path, ["basic"], soft_augment=["heavy_color", "basic"])


def test_manual_labels_win_over_the_teacher():
    from hookseg.train.soft_targets import onehot, overlay_manual

    soft = np.full((2, 2, 3), 1 / 3, np.float32)
    labels = np.array([[0, 255], [2, 1]], np.uint8)
    out = overlay_manual(soft, labels, 3)
    np.testing.assert_array_equal(out.argmax(-1)[labels < 3], labels[labels < 3])
    np.testing.assert_allclose(out[0, 1], 1 / 3)
    np.testing.assert_array_equal(onehot(labels, 3)[0, 1], 0.0)  # the ignore id: no target


def test_colour_presets_are_the_ones_that_do_not_warp():
    from hookseg.train.soft_targets import colour_presets

    presets = ["basic", "color_noise", "heavy_color", "xy_jitter"]
    assert colour_presets(presets) == ["color_noise", "heavy_color"]


def test_one_hot_targets_give_the_integer_labels_loss_and_confusion():
    """The loss and the IoU metric take a (B,H,W,C) distribution where they took class ids; one-hot rows
    (zero rows for the ignore id) must give exactly what the ids gave."""
    from hookseg.losses import WeightedCEDiceLoss
    from hookseg.metrics import confusion_matrix
    from hookseg.train.soft_targets import onehot

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, (2, 8, 8)).astype(np.int32)
    labels[0, :3] = 255
    logits = rng.normal(size=(2, 8, 8, 3)).astype(np.float32)
    for weights in ("dynamic", [1.0, 2.0, 1.0]):
        loss = WeightedCEDiceLoss(weights, from_logits=True)
        assert float(loss(onehot(labels, 3), logits)) == pytest.approx(float(loss(labels, logits)), rel=1e-6)
    np.testing.assert_array_equal(np.asarray(confusion_matrix(onehot(labels, 3), logits, 3)),
                                  np.asarray(confusion_matrix(labels, logits, 3)))
    soft = np.full((2, 8, 8, 3), 0.2, np.float32)
    soft[..., 1] = 0.6
    cm = np.asarray(confusion_matrix(soft, logits, 3))
    assert cm.sum() == 2 * 8 * 8 and cm[[0, 2]].sum() == 0  # a soft target counts as its argmax


def test_bad_teacher_or_share_is_one_line(cohort, teachers, tmp_path):
    from hookseg.errors import ConfigError

    with pytest.raises(ConfigError, match=r"wrong.keras:fov: expected the stage's target view 64 px") as err:
        soft_dataset(cohort, teachers["wrong"], tmp_path / "w", ["basic"])
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match=r"--soft-share: expected a share of the batch in \[0, 1\)\. Rec"):
        soft_dataset(cohort, teachers["single"], tmp_path / "s", ["basic"], share=1.0)

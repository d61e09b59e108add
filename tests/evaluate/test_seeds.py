"""Recipes compared over seeds and slides: the hierarchical bootstrap against a plain loop, against the
one-seed paired bootstrap, and widening with the seed spread as it must."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hookseg.cli import main as hookseg_main
from hookseg.evaluate.paired import Bootstrap, paired_difference, percentile_ci, resample_weights
from hookseg.evaluate.seeds import compare_recipes, seed_draws
from tests.bootstrap_reference import hierarchical_difference
from tests.evaluate.test_paired import slide_confusions

BOOT = Bootstrap(samples=500, seed=0)
CLASSES = ["background", "tumour", "other"]


def seeds_of(slides: np.ndarray, seeds: int, spread: float, shift: float = 0.0, seed: int = 1) -> np.ndarray:
    """(k, n, C, C): each seed moves a share of every class's correct pixels to an error (or back), the
    same share on every slide (a seed is a whole model: better or worse everywhere)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(seeds):
        move = np.clip(shift + rng.normal(0, spread), -0.5, 0.5)
        conf = slides.astype(np.float64).copy()
        for t in range(slides.shape[1]):
            wrong = (t + 1) % slides.shape[1]
            delta = np.where(move > 0, -move * conf[:, t, wrong], -move * conf[:, t, t])
            conf[:, t, t] -= delta
            conf[:, t, wrong] += delta
        out.append(np.rint(conf).astype(np.int64))
    return np.stack(out)


def test_the_vectorised_bootstrap_is_the_plain_loop():
    slides = slide_confusions(9, seed=0)
    a, b = seeds_of(slides, 3, 0.05, seed=1), seeds_of(slides, 4, 0.05, shift=0.05, seed=2)
    result = compare_recipes(a, b, BOOT)
    draws = seed_draws(3, BOOT, 0), seed_draws(4, BOOT, 1)
    low, high = percentile_ci(hierarchical_difference(a, b, resample_weights(9, BOOT), *draws), BOOT)
    assert (result.mean_difference.low, result.mean_difference.high) == pytest.approx((low, high))
    mean_of_seeds = lambda c: np.mean([np.mean(np.diag(p) / (p.sum(0) + p.sum(1) - np.diag(p)))  # noqa: E731
                                       for p in c.sum(axis=1).astype(float)])
    assert result.mean_difference.value == pytest.approx(mean_of_seeds(b) - mean_of_seeds(a))


def test_one_seed_per_arm_is_the_paired_slide_bootstrap():
    a, b = slide_confusions(8, seed=3), slide_confusions(8, seed=4, accuracy=0.75)
    per_class, mean = paired_difference(b, a, BOOT)
    result = compare_recipes(a[None], b[None], BOOT)
    np.testing.assert_allclose(result.mean_difference.value, mean.value)
    np.testing.assert_allclose([result.mean_difference.low, result.mean_difference.high],
                               [mean.low, mean.high])
    np.testing.assert_allclose(result.difference.low, per_class.low)


def test_the_seed_spread_widens_the_interval_and_a_lucky_seed_is_not_an_effect():
    slides = slide_confusions(9, seed=5)
    steady_a, steady_b = seeds_of(slides, 4, 0.0), seeds_of(slides, 4, 0.0, shift=0.03)
    noisy_a, noisy_b = seeds_of(slides, 4, 0.08, seed=6), seeds_of(slides, 4, 0.08, shift=0.03, seed=7)
    steady = compare_recipes(steady_a, steady_b, BOOT).mean_difference
    noisy = compare_recipes(noisy_a, noisy_b, BOOT).mean_difference
    assert steady.excludes_zero()  # the same gain on every slide, no seed spread: clear
    assert noisy.high - noisy.low > 2 * (steady.high - steady.low)
    # the same noisy arms compared one seed each: the slide bootstrap alone, which misses the spread
    arms = compare_recipes(noisy_a, noisy_b, BOOT)
    best_b, worst_a = noisy_b[np.argmax(arms.b.seed_means)], noisy_a[np.argmin(arms.a.seed_means)]
    lucky = paired_difference(best_b, worst_a, BOOT)[1]
    assert lucky.excludes_zero() and not noisy.excludes_zero()


def test_mismatched_arms_are_refused():
    with pytest.raises(ValueError, match="same slides"):
        compare_recipes(np.zeros((2, 3, 3, 3)), np.zeros((2, 4, 3, 3)), BOOT)


def _write(folder: Path, confusions: np.ndarray, cohorts: list[str]) -> Path:
    slides = {f"s{i}": {"cohort": c, "stain": "ER", "scanner": "A", "source": "DS1",
                        "confusion": m.tolist(), "raw_confusion": m.tolist()}
              for i, (m, c) in enumerate(zip(confusions, cohorts, strict=True))}
    folder.mkdir(parents=True)
    (folder / "slides.json").write_text(json.dumps({"classes": CLASSES, "slides": slides}))
    return folder


def test_compare_cli_writes_the_table_per_split(tmp_path, capsys):
    slides = slide_confusions(10, seed=8)
    cohorts = ["val"] * 5 + ["test"] * 5
    a = [_write(tmp_path / f"a{k}", c, cohorts) for k, c in enumerate(seeds_of(slides, 3, 0.02, seed=9))]
    b = [_write(tmp_path / f"b{k}", c, cohorts)
         for k, c in enumerate(seeds_of(slides, 3, 0.02, shift=0.1, seed=10))]
    out = tmp_path / "compare.json"
    b_files = ",".join(str(p / "slides.json") for p in b)  # a folder or its slides.json, either
    assert hookseg_main(["compare", "--a", ",".join(map(str, a)), "--b", b_files,
                         "--names", "old,new", "--out", str(out), "--bootstrap-samples", "300"]) == 0
    table = json.loads(out.read_text())
    assert list(table) == ["val", "test"]
    assert table["test"]["slides"] == 5 and table["test"]["a"]["seeds"] == 3
    assert table["test"]["difference"]["mean_iou_diff_excludes_0"] is True
    assert table["test"]["b"]["mean_iou"] - table["test"]["a"]["mean_iou"] == pytest.approx(
        table["test"]["difference"]["mean_iou_diff"], abs=2e-4)
    printed = capsys.readouterr().out
    assert "| new - old |" in printed and "## val (5 slides)" in printed
    assert "An arm has" not in printed  # three seeds each: no warning


def test_compare_cli_names_the_folder_whose_slides_differ(tmp_path, capsys):
    slides = slide_confusions(6, seed=11)
    a = _write(tmp_path / "a", slides, ["test"] * 6)
    b = _write(tmp_path / "b", slides[:5], ["test"] * 5)
    code = hookseg_main(["compare", "--a", str(a), "--b", str(b), "--split", "test"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert str(b / "slides.json") in err and "Missing: ['s5']" in err


def test_compare_cli_refuses_a_split_no_seed_scored(tmp_path, capsys):
    slides = slide_confusions(4, seed=12)
    a = _write(tmp_path / "a", slides, ["val"] * 4)
    b = _write(tmp_path / "b", slides, ["val"] * 4)
    code = hookseg_main(["compare", "--a", str(a), "--b", str(b), "--split", "test"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "no slide of split 'test'" in err and "['val']" in err

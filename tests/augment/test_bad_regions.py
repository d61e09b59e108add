"""Drawn bad regions: both views agree in physical units, labels follow the drawing, colour-only stays so."""

from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest

from hookseg.annotations import ClassMap
from hookseg.augment import PairedAugment, load_config, parse_config
from hookseg.errors import ConfigError
from hookseg.train.soft_targets import check_colour_presets, colour_presets

RATIO = 4
SIZE = 192
OTHER = 2


def _tissue_with_glass(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Textured tissue with a glass strip on the left; labels: background on tissue, ignore on half."""
    rng = np.random.default_rng(seed)
    image = rng.integers(60, 190, (SIZE, SIZE, 3), dtype=np.uint8)
    image = cv2.GaussianBlur(image, (0, 0), 1.0)
    image[:, : SIZE // 4] = 245
    labels = np.zeros((SIZE, SIZE), np.uint8)
    labels[SIZE // 2 :] = 255
    return image, labels


def _augment(kind: str, seed: int) -> tuple[np.ndarray, ...]:
    config = parse_config({"presets": {"one": [{"name": "bad_regions", "p": 1.0, "kinds": [kind],
                                                "label": OTHER, "size": [0.25, 0.35],
                                                "blur_sigma": [3.0, 4.0], "fold_density": [1.0, 1.0]}]}})
    image, labels = _tissue_with_glass(seed)
    context = cv2.resize(image, None, fx=1 / RATIO, fy=1 / RATIO, interpolation=cv2.INTER_AREA)
    context = cv2.copyMakeBorder(context, 72, 72, 72, 72, cv2.BORDER_REFLECT_101)  # same centre, 4x coarser
    context_labels = np.zeros(context.shape[:2], np.uint8)
    aug = PairedAugment(["one"], config, ratio=RATIO)
    return (image, labels, context, context_labels,
            *aug(image, labels, context, context_labels, rng=np.random.default_rng(seed)))


@pytest.mark.parametrize("kind", ["blur", "fold", "bubble"])
def test_the_region_is_drawn_and_labelled_in_the_same_place_on_both_views(kind):
    for seed in range(4):
        image, labels, context, _, t, tl, c, cl = _augment(kind, seed)
        drawn = tl == OTHER
        assert drawn.sum() > 200, kind
        glass = image.mean(axis=-1) >= 238  # a fold or blur over glass changes it without labelling it
        changed = np.abs(t.astype(int) - image).max(axis=-1) > 8
        assert (changed & ~_near(drawn) & ~glass).sum() < 0.01 * changed.size  # only about the region
        assert changed[_near(drawn)].sum() > 100
        # the context's region, brought back to target pixels about the common centre, is the target's
        back = cv2.resize(cl, None, fx=RATIO, fy=RATIO, interpolation=cv2.INTER_NEAREST)
        offset = (back.shape[0] - SIZE) // 2
        back = back[offset : offset + SIZE, offset : offset + SIZE] == OTHER
        region = drawn if kind == "bubble" else (drawn | glass)
        overlap = (back & region).sum() / max(1, back.sum())
        assert overlap > 0.75, (kind, seed, overlap)  # a 4x coarser view rounds a thin band
        assert set(np.unique(cl)) <= {0, OTHER} and set(np.unique(tl)) <= {0, OTHER, 255}


def _near(mask: np.ndarray) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((25, 25), np.uint8)).astype(bool)


def test_blur_and_fold_label_tissue_only_a_bubble_its_whole_disc():
    glass = (slice(None), slice(0, SIZE // 4 - 12))  # tissue is judged smoothed: its edge blurs a little
    labelled_glass = {}
    for kind in ("blur", "fold", "bubble"):
        labelled_glass[kind] = sum(int((_augment(kind, s)[5][glass] == OTHER).sum()) for s in range(8))
    assert labelled_glass["blur"] == labelled_glass["fold"] == 0
    assert labelled_glass["bubble"] > 0


def test_ignored_pixels_inside_a_region_get_the_label():
    _, labels, _, _, _, tl, _, _ = _augment("bubble", 1)
    assert ((labels == 255) & (tl == OTHER)).any()


def test_a_fold_darkens_tissue_and_a_blur_smooths_it():
    image, _, _, _, t, tl, _, _ = _augment("fold", 0)
    inside = (tl == OTHER) & (image.mean(axis=-1) < 238)
    assert t[inside].mean() < image[inside].mean() - 15
    image, _, _, _, t, tl, _, _ = _augment("blur", 0)
    inside = cv2.erode((tl == OTHER).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    inside[:, : SIZE // 4 + 12] = False  # away from the glass edge, which a blur smears
    assert t[inside].std() < 0.6 * image[inside].std()


def test_same_rng_same_draw_and_it_pickles_for_loader_workers():
    a = _augment("blur", 3)
    b = _augment("blur", 3)
    for x, y in zip(a[4:], b[4:], strict=True):
        np.testing.assert_array_equal(x, y)
    aug = PairedAugment(["bad_regions"], ratio=RATIO, force=True)
    clone = pickle.loads(pickle.dumps(aug))
    image, labels = _tissue_with_glass()
    one = aug(image, labels, rng=np.random.default_rng(2))
    two = clone(image, labels, rng=np.random.default_rng(2))
    for x, y in zip(one[:2], two[:2], strict=True):
        np.testing.assert_array_equal(x, y)


def test_teacher_labelled_patches_never_get_a_drawn_region():
    # the teacher's target is the clean patch's softmax: a relabelled region would contradict it
    assert colour_presets(["basic", "bad_regions", "heavy_color"]) == ["heavy_color"]
    with pytest.raises(ConfigError, match="bad_regions"):
        check_colour_presets(["bad_regions"])


def test_the_shipped_preset_labels_what_bad_regions_club_into():
    spec = load_config().preset("bad_regions")[0]
    class_map = ClassMap.default()
    assert {class_map.club(k) for k in ("blur", "fold", "bubble")} == {spec.params["label"]}


def test_an_unknown_kind_is_a_one_line_error_at_load():
    expected = r"presets.x\[0\].*kinds: expected some of \['blur', 'fold', 'bubble'\]"
    with pytest.raises(ConfigError, match=expected):
        parse_config({"presets": {"x": [{"name": "bad_regions", "p": 1.0, "kinds": ["smudge"]}]}})

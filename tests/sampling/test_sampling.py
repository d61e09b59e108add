"""Patch index, balanced draws and paired fields of view on a real pyramidal TIFF with a known layout."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from hookseg.cohort.manifest import SlideRecord
from hookseg.sampling import (
    BalancedSampler,
    FieldOfView,
    IndexParams,
    PatchDataset,
    batch_composition,
    build_index,
    sources_from_records,
    write_label_raster,
)

SLIDE_MPP = 0.5
LABEL_MPP = 1.0
COLOURS = {0: (230, 180, 200), 1: (90, 40, 120), 2: (200, 120, 60)}  # tissue-like, saturated


@pytest.fixture(scope="module")
def striped_slide(tmp_path_factory):
    """3000 x 2000 px slide at 0.5 mpp: three vertical class bands over glass at the bottom.

    Labels at 1.0 mpp, top rows unlabelled."""
    from hookseg.slides import write_pyramid

    root = tmp_path_factory.mktemp("striped")
    width, height = 3000, 2000
    band = np.minimum(np.arange(width) // 1000, 2)
    image = np.zeros((height, width, 3), np.uint8)
    for label, colour in COLOURS.items():
        image[:, band == label] = colour
    image[1600:] = 245  # glass
    slide_path = write_pyramid(root / "slide.tif", (width, height),
                               lambda x, y, w, h: image[y : y + h, x : x + w], mpp=SLIDE_MPP)
    labels = np.repeat(band[::2][None, :], height // 2, axis=0).astype(np.uint8)
    labels[:100] = 255  # unlabelled strip
    labels[800:] = 255  # glass is not annotated
    labels_path = write_label_raster(root / "labels.tif", labels, mpp=LABEL_MPP)
    record = SlideRecord("s1", slide_path, "ER", "A", "DS1", "train", "P1", None)
    return record, labels_path


@pytest.fixture(scope="module")
def index(striped_slide, tmp_path_factory):
    record, labels_path = striped_slide
    out = tmp_path_factory.mktemp("index") / "index.parquet"
    return build_index([record], {"s1": labels_path}, IndexParams(per_class=50, index_mpp=8.0), out), out


def test_index_has_centres_of_every_class_where_that_class_is(index):
    table, path = index
    assert path.exists()
    pd.testing.assert_frame_equal(pd.read_parquet(path), table)
    assert table.groupby("label").size().to_dict() == {0: 50, 1: 50, 2: 50}
    band = np.minimum(table["x"].to_numpy() // 1000, 2)
    assert (band == table["label"].to_numpy()).mean() > 0.97  # coarse 8-mpp pixels straddle band edges
    assert (table["y"] >= 100 * LABEL_MPP / SLIDE_MPP - 16).all()  # nothing from the unlabelled strip
    assert set(table["stain"]) == {"ER"}


def test_batch_composition_is_two_one_one():
    assert batch_composition(8, {1: 2, 0: 1, 2: 1}) == {1: 4, 0: 2, 2: 2}
    assert sum(batch_composition(6, {1: 2, 0: 1, 2: 1}).values()) == 6
    assert batch_composition(6, {1: 2, 0: 1, 2: 1})[1] == 3
    with pytest.raises(ValueError, match="batch_size"):
        batch_composition(0, {0: 1})


def test_sampler_ratios_over_many_batches(index):
    table, _ = index
    sampler = BalancedSampler(table, {1: 2, 0: 1, 2: 1})
    rng = np.random.default_rng(0)
    labels = np.concatenate([table["label"].to_numpy()[sampler.draw(6, rng)] for _ in range(200)])
    shares = np.bincount(labels, minlength=3) / labels.size
    assert shares[1] == pytest.approx(0.5, abs=0.02)
    assert shares[0] == pytest.approx(0.25, abs=0.1)
    assert shares[2] == pytest.approx(0.25, abs=0.1)


def test_sampler_gives_an_absent_class_share_to_the_others(index):
    table, _ = index
    sampler = BalancedSampler(table[table["label"] != 2], {1: 2, 0: 1, 2: 1})
    rows = sampler.draw(9, np.random.default_rng(1))
    assert set(table["label"].to_numpy()[rows]) == {0, 1}


@pytest.fixture(scope="module")
def dataset(striped_slide, index):
    record, labels_path = striped_slide
    table, _ = index
    return PatchDataset(
        table, sources_from_records([record], {"s1": labels_path}),
        FieldOfView(size=64, mpp=0.5, context_size=64, context_mpp=2.0), batch_size=4, steps=3, seed=7,
    )


def test_batches_pair_views_and_labels(dataset):
    x, y = dataset[0]
    assert x["target"].shape == (4, 64, 64, 3)
    assert x["context"].shape == (4, 64, 64, 3)
    assert y["final"].shape == (4, 64, 64)
    assert y["context"].shape == (4, 64, 64)
    assert x["target"].dtype == np.float32
    for i in range(4):
        # At the centre, image colour and label agree in both views; the context sees 4x more area.
        for view, labels in ((x["target"][i], y["final"][i]), (x["context"][i], y["context"][i])):
            label = labels[32, 32]
            if label != 255:
                np.testing.assert_allclose(view[32, 32], COLOURS[int(label)], atol=12)
        assert (y["context"][i] != 255).sum() >= (y["final"][i] != 255).sum() * 0  # both defined arrays
    centre_labels = y["final"][:, 32, 32]
    assert sorted(centre_labels.tolist()).count(1) == 2  # 2:1:1 in a batch of 4


def test_context_view_covers_four_times_the_target(dataset):
    row = dataset.index.iloc[int(np.flatnonzero(dataset.index["label"] == 1)[0])]
    target, target_labels, context, context_labels = dataset.read_sample(row, np.random.default_rng(0))
    # The central 16x16 of the 64-px context at 2.0 mpp covers the same tissue as the 64-px target at 0.5.
    np.testing.assert_array_equal(context_labels[24:40, 24:40], target_labels[2::4, 2::4])


def test_batches_are_deterministic_per_seed_epoch_and_index(dataset):
    a = dataset[1]
    b = dataset[1]
    np.testing.assert_array_equal(a[0]["target"], b[0]["target"])
    dataset.set_epoch(1)
    c = dataset[1]
    dataset.set_epoch(0)
    assert not np.array_equal(a[0]["target"], c[0]["target"])


def test_dataset_pickles_without_open_readers(dataset):
    dataset[0]
    assert dataset._readers
    clone = pickle.loads(pickle.dumps(dataset))
    assert clone._readers == {}
    np.testing.assert_array_equal(clone[2][1]["final"], dataset[2][1]["final"])


def test_the_index_draws_centres_only_inside_the_mask_it_is_given(striped_slide):
    from dataclasses import replace

    from hookseg.sampling import index_slide
    from hookseg.slides import TissueParams

    record, labels_path = striped_slide
    nothing = replace(TissueParams.load(), max_value=0.0)  # every pixel is "near-white": no tissue
    table = index_slide(record, labels_path, IndexParams(per_class=50, index_mpp=8.0, tissue=nothing), seed=0)
    assert len(table) == 0
    default = index_slide(record, labels_path, IndexParams(per_class=50, index_mpp=8.0), seed=0)
    assert len(default) == 150

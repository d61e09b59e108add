"""Whole-slide prediction on a real pyramidal TIFF with a model whose right answer is known."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from hookseg.annotations import rasterize, read_annotations
from hookseg.infer import InferParams, predict_probabilities, predict_slide
from hookseg.infer.tiling import TileGrid, ramp_weights, tiles_with_tissue
from hookseg.slides import open_slide, tissue_mask
from tests.factories import banded_slide


@pytest.fixture(scope="module")
def slide_path(tmp_path_factory):
    path, _ = banded_slide(tmp_path_factory.mktemp("slide"), "s1", size=(1536, 1024), mpp=1.0)
    return path


def band_truth(width: int, height: int, scale: float) -> np.ndarray:
    """Class per output pixel (scale = slide px per output px): bands over glass (= background)."""
    x = (np.arange(width) + 0.5) * scale
    y = (np.arange(height) + 0.5) * scale
    band = np.minimum(x * 3 // 1536, 2).astype(np.uint8)
    truth = np.repeat(band[None, :], height, axis=0)
    truth[y >= 1024 * 4 // 5] = 0
    return truth


def test_stripe_streaming_equals_full_canvas_blending(colour_model, slide_path, tmp_path):
    model, meta, _ = colour_model
    params = replace(InferParams.load(), overlap=0.25, batch_size=3, prefetch=2)
    with open_slide(slide_path) as slide:
        pmap = predict_probabilities(model, meta, slide, tmp_path / "p.npy", params)
        streamed = np.asarray(pmap.open())
        # Naive reference: every tile into one full canvas, then divide.
        height, width, classes = pmap.shape
        size = meta.fov.size
        overlap = 2 * round(size * params.overlap / 2)
        grid = TileGrid(width, height, size, overlap)
        tissue = tissue_mask(slide)
        tiles = tiles_with_tissue(grid, tissue.mask, tissue.mpp / meta.fov.mpp)
        acc = np.zeros((height + size, width + size, classes))
        weight = np.zeros((height + size, width + size))
        w = ramp_weights(size, overlap)
        scale = meta.fov.mpp / slide.mpp
        for x, y in tiles:
            target = slide.read((x * scale, y * scale), (size, size), meta.fov.mpp)[None].astype(np.float32)
            center = ((x + size / 2) * scale, (y + size / 2) * scale)
            context = slide.read_at_center(center, (size, size), meta.fov.context_mpp)[None]
            context = context.astype(np.float32)
            p = model.predict_on_batch({"target": target, "context": context})["final"][0]
            acc[y : y + size, x : x + size] += p * w[..., None]
            weight[y : y + size, x : x + size] += w
    covered = weight[:height, :width] > 0
    expected = np.rint(acc[:height, :width][covered] / weight[:height, :width][covered][:, None] * 255)
    assert pmap.tiles == len(tiles) > 0
    np.testing.assert_allclose(streamed[covered], expected, atol=1)
    assert (streamed[~covered][:, 0] == 255).all()


def test_outputs_are_aligned_and_qupath_ready(colour_model, slide_path, tmp_path):
    model, meta, _ = colour_model
    class_map = meta.class_map  # the model's own: prediction takes it from there
    params = replace(InferParams.load(), min_region_um2=0.0, fill_holes_um2=0.0, postprocess_mpp=4.0,
                     simplify_um=0.0)
    summary = predict_slide(model, meta, slide_path, tmp_path, params, slide_id="s1")
    folder = tmp_path / "s1"
    assert json.loads((folder / "summary.json").read_text()) == summary
    with open_slide(folder / "labels.tiff") as labels, open_slide(slide_path) as slide:
        # Same physical geometry as the slide, at the model's mpp; OpenSlide opens it.
        assert labels.backend == "openslide"
        assert labels.mpp == pytest.approx(meta.fov.mpp)
        assert labels.dimensions == (math.ceil(slide.dimensions[0] / 2), math.ceil(slide.dimensions[1] / 2))
        predicted = labels.read((0, 0), labels.dimensions, labels.mpp, interpolation="nearest")[..., 0]
    truth = band_truth(*labels.dimensions, scale=2.0)
    assert (predicted == truth).mean() > 0.98
    with open_slide(folder / "probabilities.tiff") as probs:
        assert probs.dimensions == labels.dimensions
    # GeoJSON regions, in level-0 slide pixels, rasterise back onto the label map.
    regions = read_annotations(folder / "regions.geojson")
    assert sorted(regions.labels()) == ["other", "tumour"]
    back = rasterize(regions, class_map, origin=(0, 0), size=labels.dimensions, downsample=2.0)
    back[back == 255] = 0
    for cls in (1, 2):
        a, b = back == cls, predicted == cls
        assert (a & b).sum() / (a | b).sum() > 0.95
    area = summary["area_mm2"]
    assert area["tumour"] == pytest.approx(512 * 820 * 1e-6, rel=0.05)  # a third of the width, tissue rows
    assert summary["tumour_fraction_of_non_background"] == pytest.approx(0.5, abs=0.03)
    assert (folder / "overlay.png").stat().st_size > 0
    assert not (folder / ".probabilities.npy").exists()


def test_regions_stay_inside_a_slide_the_label_grid_overhangs(colour_model, tmp_path):
    """1530 x 1018 px at 1 um/px on a 4 um post-processing grid: the last cells reach past the edge."""
    model, meta, _ = colour_model
    path, _ = banded_slide(tmp_path, "odd", size=(1530, 1018), mpp=1.0)
    params = replace(InferParams.load(), postprocess_mpp=4.0, simplify_um=0.0)
    predict_slide(model, meta, path, tmp_path / "out", params, slide_id="odd")
    regions = read_annotations(tmp_path / "out" / "odd" / "regions.geojson")
    assert regions.labels()
    for annotation in regions:
        x0, y0, x1, y1 = annotation.geometry.bounds
        assert x0 >= 0 and y0 >= 0 and x1 <= 1530 and y1 <= 1018, annotation.geometry.bounds


def test_prediction_tiles_the_mask_the_model_trained_with(colour_model, slide_path, tmp_path):
    from hookseg.slides import TissueParams

    model, meta, _ = colour_model
    params = InferParams.load()
    nothing = {**TissueParams.load().as_dict(), "max_value": 0.0}  # every pixel near-white: no tissue
    with open_slide(slide_path) as slide:
        default = np.asarray(predict_probabilities(model, meta, slide, tmp_path / "d.npy", params).open())
        hidden = np.asarray(predict_probabilities(model, replace(meta, tissue=nothing), slide,
                                                  tmp_path / "n.npy", params).open())
    assert len(np.unique(default.argmax(-1))) == 3  # the bands, tiled
    assert (hidden == hidden[0, 0]).all()  # no tile: one fill value everywhere

"""A batch read as strips must hand the model the tiles that reading each tile alone gives."""

from __future__ import annotations

import numpy as np
import pytest

from hookseg.infer.tile_reads import read_batch, row_runs
from hookseg.model_meta import ModelMeta
from hookseg.sampling import FieldOfView
from hookseg.slides import open_slide, write_pyramid


def one_by_one(slide, meta: ModelMeta, tiles) -> dict[str, np.ndarray]:
    """The reference: every tile and its context read on its own, as prediction read them before strips."""
    fov = meta.fov
    scale = fov.mpp / slide.mpp
    target = [slide.read((x * scale, y * scale), (fov.size, fov.size), fov.mpp) for x, y in tiles]
    out = {"target": np.stack(target).astype(np.float32)}
    if fov.context_mpp is not None:
        centres = [((x + fov.size / 2) * scale, (y + fov.size / 2) * scale) for x, y in tiles]
        context = [slide.read_at_center(c, (fov.context_size,) * 2, fov.context_mpp) for c in centres]
        out["context"] = np.stack(context).astype(np.float32)
    return out


def test_runs_share_a_row_and_one_stride():
    tiles = [(0, 0), (48, 0), (96, 0), (200, 0), (0, 48), (48, 48), (48, 96)]
    assert row_runs(tiles) == [[(0, 0), (48, 0), (96, 0)], [(200, 0)], [(0, 48), (48, 48)], [(48, 96)]]
    assert row_runs([]) == []


@pytest.fixture(scope="module")
def pyramid(tmp_path_factory):
    """A real pyramidal TIFF at 0.5 um/px whose levels hold 2 and 8 um/px exactly (downsample 4 and 16)."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (1536, 2048, 3), dtype=np.uint8)
    path = tmp_path_factory.mktemp("slide") / "slide.tif"
    return write_pyramid(path, (2048, 1536), lambda x, y, w, h: image[y : y + h, x : x + w], mpp=0.5)


def test_strips_equal_single_reads_byte_for_byte_where_levels_hold_the_mpp(pyramid):
    meta = ModelMeta(FieldOfView(size=64, mpp=2.0, context_size=64, context_mpp=8.0))
    # two runs in one row (a gap between them), one in the next, one lone tile; stride 48 = 12 context px
    tiles = [(0, 0), (48, 0), (96, 0), (240, 0), (288, 0), (0, 48), (48, 48), (96, 48), (400, 300)]
    with open_slide(pyramid) as slide:
        got, want = read_batch(slide, meta, tiles), one_by_one(slide, meta, tiles)
    assert set(got) == {"target", "context"}
    for key in want:
        assert got[key].dtype == np.float32 and got[key].shape == want[key].shape
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def test_a_fractional_context_step_reads_contexts_one_by_one(pyramid):
    meta = ModelMeta(FieldOfView(size=64, mpp=2.0, context_size=64, context_mpp=8.0))
    tiles = [(0, 0), (50, 0), (100, 0)]  # 50 px at 2 um/px = 12.5 context px: no strip can hold them
    with open_slide(pyramid) as slide:
        got, want = read_batch(slide, meta, tiles), one_by_one(slide, meta, tiles)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def test_strips_on_a_real_scan_whose_levels_do_not_hold_the_mpp(sample_svs_jpeg):
    """CMU-1 at 0.499 um/px read at 2 um/px (4.008 level pixels per output pixel): the strip is area-filtered
    on its own grid, whose blocks fall a fraction of a pixel away from a single read's. Same picture, another
    sampling phase: edges move by a grey level or so, no tile gets brighter or darker."""
    meta = ModelMeta(FieldOfView(size=64, mpp=2.0, context_size=64, context_mpp=8.0))
    tiles = [(x, y) for y in (100, 148) for x in range(100, 100 + 6 * 48, 48)]
    with open_slide(sample_svs_jpeg) as slide:
        got, want = read_batch(slide, meta, tiles), one_by_one(slide, meta, tiles)
    for key in want:
        per_tile = np.abs(got[key] - want[key]).reshape(len(tiles), -1).mean(axis=1)
        assert per_tile.max() < 4.0, (key, per_tile)
        brightness = np.abs(got[key].mean(axis=(1, 2, 3)) - want[key].mean(axis=(1, 2, 3)))
        assert brightness.max() < 0.5, (key, brightness)

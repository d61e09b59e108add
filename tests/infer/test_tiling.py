from __future__ import annotations

import numpy as np
import pytest

from hookseg.infer.tiling import TileGrid, ramp_1d, ramp_weights, tiles_with_tissue


@pytest.mark.parametrize(("size", "overlap"), [(64, 16), (128, 32), (100, 20)])
def test_overlapping_ramps_sum_to_one(size, overlap):
    stride = size - overlap
    total = np.zeros(size * 4)
    for start in range(0, size * 4 - size + 1, stride):
        total[start : start + size] += ramp_1d(size, overlap)
    interior = total[overlap : size * 3]
    np.testing.assert_allclose(interior, 1.0, atol=1e-6)
    assert ramp_weights(size, overlap).min() > 0


def test_grid_covers_the_extent():
    grid = TileGrid(width=1000, height=300, size=128, overlap=32)
    cols = grid.cols()
    assert cols[0] == 0
    assert cols[-1] + 128 >= 1000
    assert all(b - a == 96 for a, b in zip(cols, cols[1:], strict=False))


def test_tiles_only_where_tissue_is():
    tissue = np.zeros((10, 10), bool)
    tissue[0:2, 8:10] = True  # top-right corner only
    grid = TileGrid(width=1000, height=1000, size=200, overlap=0)
    tiles = tiles_with_tissue(grid, tissue, tissue_scale=100.0)
    assert tiles == [(800, 0)]

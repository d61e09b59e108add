"""Milliseconds per tile of whole-slide blending (``hookseg.infer.predict._blend``), without model or reads.

The blend runs on a thread beside the model, in batches of 8 tiles as the pipeline hands them over; on a CPU
every millisecond of it competes with the model for cores (``bench/wsi_infer.py``'s efficiency). Geometry of
the demo: 128-px tiles overlapping by 32 px on an 8000-px slide at 0.5 um/px predicted at 2 um/px (2000 x 2000
output, 441 tiles, 3 classes). Prints the minimum and median of 5 rounds and a checksum of the written bytes
(a change that alters the output changes it).

Usage: python bench/blend.py [--side 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    import numpy as np

    from hookseg.infer.predict import _blend, _Stripe
    from hookseg.infer.tiling import TileGrid, ramp_weights

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=2000, help="output side in pixels")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    size, overlap, classes = 128, 32, 3
    grid = TileGrid(args.side, args.side, size, overlap)
    tiles = [(x, y) for y in grid.rows() for x in grid.cols()]
    probs = np.random.default_rng(0).dirichlet([1.0] * classes, size=(size, size)).astype(np.float32)
    batch = 8
    batch_probs = np.repeat(probs[None], batch, axis=0)
    weights = ramp_weights(size, overlap)
    seconds = []
    for _ in range(args.rounds):
        out = np.zeros((args.side, args.side, classes), np.uint8)
        stripe = _Stripe(args.side, size, classes, out, weights)
        start = time.perf_counter()
        for i in range(0, len(tiles), batch):
            _blend(stripe, tiles[i : i + batch], batch_probs[: len(tiles[i : i + batch])])
        stripe.flush_all()
        seconds.append(time.perf_counter() - start)
    per_tile = sorted(1000 * s / len(tiles) for s in seconds)
    print(json.dumps({"tiles": len(tiles), "ms_per_tile_min": round(per_tile[0], 3),
                      "ms_per_tile_median": round(per_tile[len(per_tile) // 2], 3),
                      "checksum": int(out.sum())}))


if __name__ == "__main__":
    main()

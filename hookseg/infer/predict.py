"""``predict_probabilities``: stream a slide through the model into a uint8 probability raster on disk.

Tiles over tissue only, paired fields of view read by mpp (each run of adjacent tiles as one strip,
``tile_reads``), batched, read ahead of the model on a thread (OpenSlide and tifffile release the GIL while
decoding), blended with ramps in a stripe accumulator. Only one stripe of tile rows lives in memory; finished
rows go to a disk-backed array. Memory therefore grows with slide width, never with area.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from hookseg.infer.params import InferParams
from hookseg.infer.tile_reads import read_batch
from hookseg.infer.tiling import TileGrid, ramp_weights, tiles_with_tissue
from hookseg.io import write_json
from hookseg.model_meta import ModelMeta
from hookseg.slides import TissueParams, tissue_mask
from hookseg.slides.base import SlideReader

log = logging.getLogger(__name__)

# Reader and blender threads run only on cycles the model leaves idle: Linux's SCHED_IDLE policy, or the
# lowest nice value where it is refused. Nice 19 alone took the demo student's pipeline efficiency from 0.883
# to 0.902 in Keras (bench/wsi_infer.py, one round); SCHED_IDLE over nice 19 about +0.01 more (README's bench
# table).
NICE = 19


class Predictor(Protocol):
    """What the pipeline calls: a Keras model, ``pseudo_label``'s TTA wrapper or an ``OnnxModel``.

    A predictor whose ``takes_any_batch`` is true (an ``OnnxModel``: its graph's batch dimension is dynamic)
    gets the last, short batch as it is; any other gets it padded to the batch size (see ``_padded``).
    """

    def predict_on_batch(self, x: dict[str, np.ndarray]) -> Any: ...


@dataclass(frozen=True)
class ProbabilityMap:
    """(H, W, C) uint8 probabilities x 255 at ``mpp`` over the slide's level-0 frame, on disk."""

    path: Path
    mpp: float
    shape: tuple[int, int, int]
    tiles: int
    resumed_tiles: int = 0  # tiles a killed earlier run had finished and this one did not predict again

    def open(self) -> np.ndarray:
        return np.load(self.path, mmap_mode="r")


def predict_probabilities(
    model: Predictor, meta: ModelMeta, slide: SlideReader, out: Path, params: InferParams,
    *, progress: Callable[[int, int], None] | None = None, resume_key: str | None = None,
) -> ProbabilityMap:
    """Predict every tissue tile into ``out`` (a ``.npy`` memmap).

    With ``resume_key`` (a digest of the model, settings and slide), every finished band of rows is recorded
    in ``<out>.progress.json``; a run killed part-way and started again with the same key keeps those rows and
    predicts only the tiles that touch the rest. It restarts at a batch boundary of the same tile list, so
    every tile meets the model in the same batch as in an uninterrupted run: the result is the same bytes.
    """
    fov = meta.fov
    mpp, size = fov.mpp, fov.size
    width = math.ceil(slide.dimensions[0] * slide.mpp / mpp)
    height = math.ceil(slide.dimensions[1] * slide.mpp / mpp)
    classes = len(meta.class_names)
    overlap = min(size - 1, 2 * round(size * params.overlap / 2))
    grid = TileGrid(width, height, size, overlap)
    tissue_params = TissueParams.of_model(meta.tissue, source=f"{meta.stage or 'model'} metadata")
    tissue = tissue_mask(slide, tissue_params)  # the mask the model trained with
    tiles = tiles_with_tissue(grid, tissue.mask, tissue.mpp / mpp)
    shape = (height, width, classes)
    checkpoint = RowCheckpoint(out, resume_key, shape, len(tiles)) if resume_key else None
    final_rows = checkpoint.finished_rows() if checkpoint else 0
    if final_rows:
        probs = np.load(out, mmap_mode="r+")
        first = next((i for i, (_, y) in enumerate(tiles) if y + size > final_rows), len(tiles))
        start = first - first % params.batch_size if final_rows < height else len(tiles)  # same batches
        log.info("%s: resuming at row %d of %d (%d of %d tiles left)", out.parent.name, final_rows, height,
                 len(tiles) - start, len(tiles))
    else:
        probs = np.lib.format.open_memmap(out, mode="w+", dtype=np.uint8, shape=shape)  # zeros
        start = 0
    stripe = _Stripe(width, size, classes, probs, ramp_weights(size, overlap), floor=final_rows,
                     top=tiles[start][1] if start < len(tiles) else final_rows,
                     on_final=checkpoint.record if checkpoint else None)
    done = start
    # Blending runs on its own thread while the model takes the next batch; one thread keeps the tiles in
    # order, and each batch waits for the one before, so at most one batch is blended behind the model.
    pad_to = 0 if getattr(model, "takes_any_batch", False) else params.batch_size
    with ThreadPoolExecutor(max_workers=1, initializer=_yield_to_the_model) as blender:
        blended = None
        for batch_tiles, batch in _prefetched(slide, meta, tiles[start:], params):
            output = model.predict_on_batch(_padded(batch, pad_to))
            final = output["final"] if isinstance(output, dict) else output
            final = final[0] if isinstance(final, list) else final
            final = np.asarray(final, dtype=np.float32)[: len(batch_tiles)]  # predict_on_batch gives NumPy
            if blended is not None:
                blended.result()
            blended = blender.submit(_blend, stripe, batch_tiles, final)
            done += len(batch_tiles)
            if progress is not None:
                progress(done, len(tiles))
        if blended is not None:
            blended.result()
    stripe.flush_all()
    probs.flush()
    if checkpoint:
        checkpoint.record(height)
    return ProbabilityMap(out, mpp, shape, len(tiles), resumed_tiles=start)


class RowCheckpoint:
    """``<probabilities>.progress.json``: how many rows from the top of the memmap are final, and for what.

    Written (atomically) only after the memmap is flushed, so the rows it counts are on disk. A record made
    for another key, shape or tile count is ignored: that run starts from scratch.
    """

    def __init__(self, probabilities: Path, key: str, shape: tuple[int, int, int], tiles: int) -> None:
        self.path = self.path_of(probabilities)
        self.probabilities = probabilities
        self.identity = {"key": key, "shape": list(shape), "tiles": tiles}

    def finished_rows(self) -> int:
        """Rows a previous run finished, or 0 (also when the memmap or the record is missing or stale)."""
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return 0
        if not self.probabilities.exists() or {k: state.get(k) for k in self.identity} != self.identity:
            return 0
        return int(state.get("finished_rows", 0))

    def record(self, rows: int, probs: np.ndarray | None = None) -> None:
        if probs is not None:
            probs.flush()
        write_json(self.path, {**self.identity, "finished_rows": int(rows)})

    @staticmethod
    def path_of(probabilities: Path) -> Path:
        return probabilities.with_name(probabilities.name + ".progress.json")


def _prefetched(
    slide: SlideReader, meta: ModelMeta, tiles: list[tuple[int, int]], params: InferParams,
) -> Iterator[tuple[list[tuple[int, int]], dict[str, np.ndarray]]]:
    """Batches in tile order; reading runs ``params.prefetch`` batches ahead on a worker thread."""
    batches = [tiles[i : i + params.batch_size] for i in range(0, len(tiles), params.batch_size)]
    with ThreadPoolExecutor(max_workers=1, initializer=_yield_to_the_model) as pool:
        pending = [pool.submit(read_batch, slide, meta, b) for b in batches[: params.prefetch + 1]]
        for number, tile_batch in enumerate(batches):
            batch = pending.pop(0).result()
            ahead = number + params.prefetch + 1
            if ahead < len(batches):
                pending.append(pool.submit(read_batch, slide, meta, batches[ahead]))
            yield tile_batch, batch


def _yield_to_the_model() -> None:
    """Put this thread below the model (Linux: per thread; elsewhere nothing), so reading and blending run on
    the cycles the model leaves idle instead of stalling its parallel ops."""
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
    except (OSError, AttributeError):  # a seccomp sandbox may refuse it: the lowest nice value instead
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, thread, NICE)


def _blend(stripe: _Stripe, tiles: list[tuple[int, int]], probabilities: np.ndarray) -> None:
    """Add a batch of tile probabilities (B, S, S, C) at their tile origins (what the blender thread runs)."""
    stripe.add_batch(tiles, probabilities)


def _padded(batch: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
    """Pad a short last batch to the full batch size: a new input shape would make TF retrace the model."""
    missing = size - len(batch["target"])
    if missing <= 0:
        return batch
    return {k: np.concatenate([v, np.zeros((missing, *v.shape[1:]), v.dtype)]) for k, v in batch.items()}


class _Stripe:
    """Blending accumulator for the rows that later tiles can still touch.

    ``filled`` counts the rows from ``top`` that may hold sums; below it the stripe is zero, so shifting it up
    moves and clears only those rows (a tile row's overlap), not the whole stripe. Every row of ``out`` from
    ``floor`` down is written once, when it is final: blended where tiles landed, background (probability 1)
    elsewhere, so no pass over the whole raster holds up the first batches and a resumed run repaints only
    the rows it writes.
    """

    def __init__(self, width: int, size: int, classes: int, out: np.ndarray, weights: np.ndarray, *,
                 top: int = 0, floor: int = 0,
                 on_final: Callable[[int, np.ndarray], None] | None = None) -> None:
        self.out = out
        self.top = top
        self.floor = floor  # rows above it are final on disk already (a resumed run): never rewritten
        self.on_final = on_final
        self.acc = np.zeros((2 * size, width, classes), np.float32)
        self.weight = np.zeros((2 * size, width), np.float32)
        self.size = size
        self.filled = 0
        self.weights = weights  # (S, S) blending window of every tile
        # ... repeated per class once: multiplying (B, S, S, C) by (S, S, 1) would run numpy's inner loop C
        # elements at a time, several times slower (bench/blend.py)
        self.class_weights = np.repeat(weights[:, :, None], classes, axis=2)
        self.background = np.zeros((width, classes), np.uint8)  # one row of glass: probability 1 background
        self.background[:, 0] = 255
        self.painted = floor  # rows above it are written

    def add_batch(self, tiles: list[tuple[int, int]], probabilities: np.ndarray) -> None:
        """Weight a batch of tile probabilities (B, S, S, C) in one pass and add each at its origin (x, y)."""
        weighted = probabilities * self.class_weights
        for (x, y), p in zip(tiles, weighted, strict=True):
            self.add(x, y, p)

    def add(self, x: int, y: int, weighted: np.ndarray) -> None:
        """Add one tile's ``weighted`` probabilities (already times the weights) at output pixel (x, y)."""
        if y > self.top:
            self._flush_until(y)
        r0 = y - self.top
        if r0 + self.size > self.acc.shape[0]:
            self._grow(r0 + self.size)
        w = min(self.size, self.out.shape[1] - x)
        self.acc[r0 : r0 + self.size, x : x + w] += weighted[:, :w]
        self.weight[r0 : r0 + self.size, x : x + w] += self.weights[:, :w]
        self.filled = max(self.filled, r0 + self.size)

    def _grow(self, rows: int) -> None:
        extra = rows - self.acc.shape[0]
        self.acc = np.concatenate([self.acc, np.zeros((extra, *self.acc.shape[1:]), np.float32)])
        self.weight = np.concatenate([self.weight, np.zeros((extra, self.weight.shape[1]), np.float32)])

    def _flush_until(self, y: int) -> None:
        """Rows above ``y`` are final (tiles come in row order): write them and shift the stripe up."""
        rows = min(y - self.top, self.acc.shape[0])
        self._write(rows)
        kept = max(self.filled - rows, 0)  # shift in place, and only rows that hold sums
        self.acc[:kept] = self.acc[rows : rows + kept]
        self.weight[:kept] = self.weight[rows : rows + kept]
        self.acc[kept : self.filled] = 0
        self.weight[kept : self.filled] = 0
        self.filled = kept
        self.top = y
        self._paint_until(y)  # rows between two tile rows that no tile touches
        if self.on_final is not None and y > self.floor:
            self.on_final(y, self.out)

    def flush_all(self) -> None:
        self._write(self.acc.shape[0])
        self._paint_until(self.out.shape[0])

    def _paint_until(self, row: int) -> None:
        """Rows from ``painted`` to ``row`` are final and no tile touched them: background."""
        start = max(self.painted, self.floor)
        if row > start:
            self.out[start:row] = self.background
        self.painted = max(self.painted, row)

    def _write(self, rows: int) -> None:
        """Rows ``top`` to ``top + rows`` are final: write them, blended where tiles landed, background
        elsewhere."""
        # background up to the band's end (rows above it no tile touched, and the band itself: blended pixels
        # overwrite it below)
        self._paint_until(min(self.top + rows, self.out.shape[0]))
        rows = min(rows, self.out.shape[0] - self.top, self.filled)  # below `filled` nothing is covered
        skip = min(max(0, self.floor - self.top), max(rows, 0))  # final already: partial sums here
        if rows - skip <= 0:
            return
        weight = self.weight[skip:rows]
        columns = np.flatnonzero(weight.max(axis=0) > 0)
        if columns.size == 0:
            return
        c0, c1 = int(columns[0]), int(columns[-1]) + 1
        weight = weight[:, c0:c1]
        covered = weight > 0
        scale = np.float32(255) / np.maximum(weight, np.float32(1e-12))
        acc = self.acc[skip:rows, c0:c1]
        blended = np.empty_like(acc)
        for c in range(acc.shape[2]):  # one class at a time: a long inner loop, not C elements (see __init__)
            np.multiply(acc[..., c], scale, out=blended[..., c])
        np.rint(blended, out=blended)
        np.clip(blended, 0, 255, out=blended)
        target = self.out[self.top + skip : self.top + rows, c0:c1]
        if covered.all():  # the usual case inside tissue: no gather of what is there
            np.copyto(target, blended, casting="unsafe")  # the cast to uint8 and the write in one pass
        else:
            np.copyto(target, blended, casting="unsafe", where=covered[..., None])

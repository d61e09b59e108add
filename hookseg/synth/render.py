"""Render any level-0 region of a synthetic slide: layout -> concentrations -> LUT -> scanner optics.

Per pixel: tissue code (nearest from the 1-um layout) and a texture code index one table for background
haematoxylin and second stain; nuclei are max-stamped from the sprite atlas; cell membranes and bad-region
strengths are sampled bilinearly from their 1-um maps; concentrations are quantised and one LUT gather
gives the scanner's RGB; then defocus, pen ink, the optics' blur and sensor noise. Everything is a function of
world position, so any tiling of the slide gives the same pixels, and ``tile`` serves ``write_pyramid`` from
a cache of full-width strips.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np

from hookseg.synth import artefacts
from hookseg.synth.appearance import N_TEXCODES, appearance_table, texture_codes, texture_lut
from hookseg.synth.cells import MEMBRANE_UNIT, Cells, membrane_maps, place_cells, stamp
from hookseg.synth.layout import Layout
from hookseg.synth.noise import TileBank, cell_network, fibre_texture, periodic_noise
from hookseg.synth.scanner import ScannerProfile, noise_tiles
from hookseg.synth.sprites import SpriteAtlas
from hookseg.synth.stain import SlideStain, StainScore, build_lut, quantize

log = logging.getLogger(__name__)

STRIP = 512  # rows rendered at once for write_pyramid (two tile rows)
BLOCK = 1024  # columns per render call inside a strip (bounds the temporaries)
TEXTURE_UM = 512.0  # period of the texture tiles (um)
TEXTURE_MPP = 0.5  # textures are synthesised at this resolution and resized to the slide's
DEFOCUS_UM = 3.0  # Gaussian sigma of out-of-focus areas (um)
NOISE_TILE = 512  # period of the sensor noise (pixels); iid noise shows no period
BLOCK_GRID = 32  # layout pixels per cell of the maps that say where membranes and bad regions are


@dataclass(frozen=True)
class _Textures:
    fibre: np.ndarray
    direction: np.ndarray
    grain: np.ndarray
    net: np.ndarray


@functools.lru_cache(maxsize=2)
def _base_textures(seed: int) -> _Textures:
    """Texture tiles at TEXTURE_MPP; shared by all slides of a worker (each reads them at its own offset)."""
    rng = np.random.default_rng([seed, 7])
    size = round(TEXTURE_UM / TEXTURE_MPP)
    fibre, direction = fibre_texture(rng, size, width_px=1.4 / TEXTURE_MPP)
    grain = np.clip(periodic_noise(rng, size, sigma=0.5 / TEXTURE_MPP), -2.5, 2.5)
    net_small = cell_network(rng, round(TEXTURE_UM), spacing_px=75.0, line_px=1.6)
    net = cv2.resize(net_small, (size, size), interpolation=cv2.INTER_LINEAR)
    return _Textures(fibre, direction, grain, net)


class SlideRenderer:
    """One slide's renderer; construct once per slide (in its worker) and call ``tile`` or ``region``."""

    def __init__(self, layout: Layout, stain: SlideStain, score: StainScore, scanner: ScannerProfile,
                 *, seed: int, texture_seed: int = 0, pen_color: str = "blue") -> None:
        self.layout, self.stain, self.score, self.scanner = layout, stain, score, scanner
        self.mpp = scanner.mpp
        self.f = self.mpp / layout.grid_mpp  # layout pixels per level-0 pixel
        gh, gw = layout.tissue.shape
        self.size = (round(gw / self.f), round(gh / self.f))
        self.pen_color = pen_color
        rng = np.random.default_rng([seed, 11])
        self.offset_um = (int(rng.integers(0, TEXTURE_UM)), int(rng.integers(0, TEXTURE_UM)))
        base = _base_textures(texture_seed)
        self._direction_tile = base.direction
        tile = round(TEXTURE_UM / self.mpp)
        resize = functools.partial(cv2.resize, dsize=(tile, tile), interpolation=cv2.INTER_LINEAR)
        self.optics_sigma = scanner.blur_px(self.mpp)
        self.defocus_sigma = DEFOCUS_UM / self.mpp
        self.margin_plain = math.ceil(3 * self.optics_sigma) + 2
        self.margin_effects = math.ceil(3 * max(self.optics_sigma, self.defocus_sigma)) + 2
        self.bank = TileBank(tile, (BLOCK + 2 * self.margin_effects, STRIP + 2 * self.margin_effects))
        self.bank.add("texcode", texture_codes(resize(base.fibre), resize(base.grain), resize(base.net)))
        self.bank.add("dither", rng.random((tile, tile), dtype=np.float32))
        self.noise = TileBank(NOISE_TILE, (BLOCK, STRIP))
        positive, negative = noise_tiles(rng, NOISE_TILE, scanner.noise, channels=4)
        self.noise.add("+", positive)
        self.noise.add("-", negative)
        self.atlas = SpriteAtlas(np.random.default_rng([seed, 12]), self.mpp)
        self.cells: Cells = place_cells(np.random.default_rng([seed, 13]), layout, self.atlas, stain, score,
                                        direction=self.direction_at)
        border, membrane = membrane_maps(self.cells, layout, np.random.default_rng([seed, 14]),
                                         score.membrane_complete)
        self.cellmaps = np.ascontiguousarray(np.stack([border, membrane], axis=-1))
        self._cell_blocks = _blocks(self.cellmaps)
        self.effects = layout.maps.get("effects")
        self._effect_blocks = _blocks(self.effects) if self.effects is not None else None
        self.tex_h, self.tex_s = texture_lut(appearance_table(stain, score))
        self.border_h = (0.02 if stain.is_he else 0.05) * stain.h_gain
        self.border_s = 0.12 * stain.s_gain if stain.is_he else 0.0
        self.lut = build_lut(stain, scanner)
        self._strip: tuple[int, np.ndarray] | None = None

    # --- public -----------------------------------------------------------------------------------------
    def direction_at(self, x_um: np.ndarray, y_um: np.ndarray) -> np.ndarray:
        """Collagen direction (radians) at slide positions, read from the same tile the texture uses."""
        n = self._direction_tile.shape[0]
        cols = (((x_um + self.offset_um[0]) / TEXTURE_MPP).astype(np.int64)) % n
        rows = (((y_um + self.offset_um[1]) / TEXTURE_MPP).astype(np.int64)) % n
        return self._direction_tile[rows, cols].astype(np.float64)

    def tile(self, x: int, y: int, w: int, h: int) -> np.ndarray:
        """``write_pyramid`` callback: serves tiles from a cached full-width strip."""
        index = y // STRIP
        if self._strip is None or self._strip[0] != index:
            y0 = index * STRIP
            self._strip = (index, self.rows(y0, min(STRIP, self.size[1] - y0)))
        y_in = y - index * STRIP
        return self._strip[1][y_in : y_in + h, x : x + w]

    def rows(self, y0: int, h: int) -> np.ndarray:
        """Full-width strip of ``h`` rows from ``y0``."""
        width = self.size[0]
        out = np.empty((h, width, 3), np.uint8)
        for x0 in range(0, width, BLOCK):
            out[:, x0 : x0 + BLOCK] = self.region(x0, y0, min(BLOCK, width - x0), h)
        return out

    def region(self, x0: int, y0: int, w: int, h: int) -> np.ndarray:
        """RGB uint8 (h, w, 3) of level-0 pixels [x0, x0+w) x [y0, y0+h), at most BLOCK x STRIP."""
        effects = self._any(self._effect_blocks, x0, y0, w, h, self.margin_effects)
        m = self.margin_effects if effects else self.margin_plain
        X0, Y0, W, H = x0 - m, y0 - m, w + 2 * m, h + 2 * m
        labels = self._labels(X0, Y0, W, H)
        ox, oy = (round(v / self.mpp) for v in self.offset_um)
        texcode = self.bank.window("texcode", X0 + ox, Y0 + oy, W, H)
        index = labels.astype(np.uint16) * np.uint16(N_TEXCODES) + texcode
        conc_h, conc_s = self.tex_h[index], self.tex_s[index]
        nuclei = np.zeros((H, W, 2), np.float32)
        stamp(self.cells, self.atlas, nuclei, X0, Y0)
        conc_h += nuclei[..., 0]
        conc_s += nuclei[..., 1]
        if self._any(self._cell_blocks, x0, y0, w, h, m):
            cm = self._sample(self.cellmaps, X0, Y0, W, H)
            conc_h += cm[..., 0] * np.float32(self.border_h / 255)
            conc_s += cm[..., 1] * np.float32(MEMBRANE_UNIT) + cm[..., 0] * np.float32(self.border_s / 255)
        absorber = np.zeros((H, W), np.uint32)
        ef = None
        if effects:
            ef = self._sample(self.effects, X0, Y0, W, H)
            fold = 1.0 + ef[..., artefacts.FOLD] * np.float32(artefacts.FOLD_EXTRA / 255)
            conc_h *= fold
            conc_s *= fold
            absorber = (ef[..., artefacts.ABSORB] // artefacts.X_LEVEL).astype(np.uint32)
        dither = self.bank.window("dither", X0, Y0, W, H)
        lut_index = (quantize(conc_h, dither) << 10) | (quantize(conc_s, dither) << 3) | absorber
        rgba = self.lut[lut_index].view(np.uint8).reshape(H, W, 4)  # RGBA: no copy; alpha dropped last
        if ef is not None:
            artefacts.apply_defocus(rgba, ef[..., artefacts.DEFOCUS], self.defocus_sigma)
            artefacts.apply_pen(rgba, ef[..., artefacts.PEN], self.pen_color)
        if self.optics_sigma > 0.2:
            cv2.GaussianBlur(rgba, (0, 0), self.optics_sigma, dst=rgba, borderType=cv2.BORDER_REFLECT)
        out = rgba[m : m + h, m : m + w]
        cv2.add(out, self.noise.window("+", x0, y0, w, h), dst=out)
        cv2.subtract(out, self.noise.window("-", x0, y0, w, h), dst=out)
        return out[..., :3]

    # --- internals --------------------------------------------------------------------------------------
    def _labels(self, x0: int, y0: int, w: int, h: int) -> np.ndarray:
        """Tissue codes (nearest) for level-0 pixels; the layout pixel holding each pixel's centre."""
        gh, gw = self.layout.tissue.shape
        cols = np.floor((x0 + np.arange(w) + 0.5) * self.f).astype(np.int64)
        rows = np.floor((y0 + np.arange(h) + 0.5) * self.f).astype(np.int64)
        out_c = (cols < 0) | (cols >= gw)
        out_r = (rows < 0) | (rows >= gh)
        labels = self.layout.tissue[np.clip(rows, 0, gh - 1)[:, None], np.clip(cols, 0, gw - 1)[None, :]]
        if out_c.any() or out_r.any():
            labels[out_r] = 0
            labels[:, out_c] = 0
        return labels

    def _sample(self, grid_map: np.ndarray, x0: int, y0: int, w: int, h: int) -> np.ndarray:
        """Bilinear samples of a layout-grid map at level-0 pixel centres (zero outside the map)."""
        f = self.f
        matrix = np.array([[f, 0, (x0 + 0.5) * f - 0.5], [0, f, (y0 + 0.5) * f - 0.5]], np.float64)
        out = cv2.warpAffine(grid_map, matrix, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return out.reshape(h, w, -1)

    def _any(self, blocks: np.ndarray | None, x0: int, y0: int, w: int, h: int, pad: int) -> bool:
        """Whether a coarse occupancy map (32 layout pixels per cell) is set anywhere near the region."""
        if blocks is None:
            return False
        scale = self.f / BLOCK_GRID
        r0, r1 = max(0, int((y0 - pad) * scale) - 1), int((y0 + h + pad) * scale) + 2
        c0, c1 = max(0, int((x0 - pad) * scale) - 1), int((x0 + w + pad) * scale) + 2
        return bool(blocks[r0:r1, c0:c1].any())


def _blocks(grid_map: np.ndarray) -> np.ndarray:
    """Which BLOCK_GRID x BLOCK_GRID cells of a (h, w, c) uint8 map hold anything (to skip empty regions)."""
    h, w = grid_map.shape[:2]
    flat = np.ascontiguousarray(grid_map.reshape(h, w, -1))
    word = {1: np.uint8, 2: np.uint16, 4: np.uint32}[flat.shape[2]]  # all channels at once
    hb, wb = -(-h // BLOCK_GRID), -(-w // BLOCK_GRID)
    padded = np.zeros((hb * BLOCK_GRID, wb * BLOCK_GRID), bool)
    padded[:h, :w] = flat.view(word)[..., 0] != 0
    return padded.reshape(hb, BLOCK_GRID, wb, BLOCK_GRID).any(axis=(1, 3))

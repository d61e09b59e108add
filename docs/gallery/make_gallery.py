"""Make docs/gallery/: hookseg's own ``hookseg predict`` run over real slides nobody on this project made.

Why: every slide the tests and the demo pipeline predict is synthetic. This gallery shows what the pipeline
does with real files from elsewhere (Aperio SVS with JPEG and with JPEG-2000 tiles, an OME-TIFF, a PNG):
reading, tiling, streaming, and outputs that line up with the slide. The demo model learnt from synthetic
slides only, so the colours say nothing about clinical quality.

Per slide it runs ``python -m hookseg predict SLIDE --model M --out WORK --workers 0 --force [--mpp X]``,
times it, and writes ``<name>.png``: the slide thumbnail beside hookseg's ``overlay.png``, with a caption.
``gallery.json`` records the mpp used, the timings and what prediction reported.

    python docs/gallery/make_gallery.py --model models/p5.keras   # after `make demo`
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hookseg.model_meta import read_meta
from hookseg.slides import open_slide

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "realdata"


@dataclass(frozen=True)
class Slide:
    """One gallery input; ``mpp`` only for files whose metadata has none (then ``mpp_source`` says why)."""

    file: str
    name: str
    mpp: float | None = None
    mpp_source: str = "file metadata"


SLIDES = (
    Slide("CMU-1-Small-Region.svs", "cmu1_small_region"),
    Slide("tcga-cr-7395-01a-01-ts1.svs", "tcga_cr_7395", 1.0,
          "none in the file; 1.0 estimated here (lymphocyte nuclei about 7 px across)"),
    Slide("OS-1-detail.ome.tif", "os1_detail"),
    Slide("skimage_ihc.png", "skimage_ihc", 0.5,
          "none in the file; 0.5 assumed (epithelial nuclei about 10 px wide)"),
)
TEXT_GREY = (60, 60, 60)
CAVEAT = ("Demo model, trained on synthetic slides only: this shows the pipeline (reading, tiling, "
          "streaming, outputs aligned with the slide), not clinical quality.")


def predict(slide: Slide, path: Path, model: Path, work: Path) -> float:
    """Run ``hookseg predict`` on one slide in process (``--workers 0``); returns its wall time in s."""
    cmd = [sys.executable, "-m", "hookseg", "predict", str(path), "--model", str(model), "--out", str(work),
           "--workers", "0", "--force"]
    if slide.mpp is not None:
        cmd += ["--mpp", str(slide.mpp)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        msg = f"hookseg predict failed on {path} (exit {done.returncode}):\n{done.stderr[-3000:]}"
        raise RuntimeError(msg)
    return wall


def font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's bundled font at ``size`` px (a scalable one where Pillow has FreeType)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: fixed-size bitmap font only
        return ImageFont.load_default()


def fit(image: Image.Image, width: int) -> Image.Image:
    """``image`` scaled to ``width`` px wide, aspect kept."""
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def compose(thumb: Image.Image, overlay: Image.Image, lines: list[str],
            legend: list[tuple[str, tuple[int, int, int]]], width: int) -> Image.Image:
    """Caption lines and a colour legend above ``thumbnail | overlay``, ``width`` px wide in all."""
    gap, margin, line_h = 8, 10, 18
    panel = (width - gap - 2 * margin) // 2
    left, right = fit(thumb, panel), fit(overlay, panel)
    text_font, small = font(15), font(13)
    header = margin + line_h * (len(lines) + 1) + 6
    height = header + max(left.height, right.height) + line_h + 2 * margin
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, line in enumerate(lines):
        draw.text((margin, margin + i * line_h), line, fill=(0, 0, 0), font=text_font)
    x, y = margin, margin + len(lines) * line_h + 2
    key = "overlay tint (45 %) per class:"
    draw.text((x, y), key, fill=(0, 0, 0), font=small)
    x += 12 + round(draw.textlength(key, font=small))
    for label, color in legend:
        draw.rectangle((x, y + 2, x + 14, y + 14), fill=color, outline=(0, 0, 0))
        draw.text((x + 20, y), label, fill=(0, 0, 0), font=small)
        x += 28 + round(draw.textlength(label, font=small))
    top = header
    sheet.paste(left, (margin, top))
    sheet.paste(right, (margin + panel + gap, top))
    below = top + max(left.height, right.height) + 4
    draw.text((margin, below), "slide thumbnail (hookseg reader)", fill=TEXT_GREY, font=small)
    draw.text((margin + panel + gap, below), "overlay.png written by hookseg predict", fill=TEXT_GREY,
              font=small)
    return sheet


def save_small(sheet: Image.Image, path: Path, max_bytes: int, keep: list[tuple[int, int, int]]) -> int:
    """Save as PNG under ``max_bytes``: full colour if it fits, else fewer colours (``keep``, the legend and
    text colours, stay exact), else narrower."""
    image = sheet
    while True:
        image.save(path, format="PNG", optimize=True)
        if path.stat().st_size <= max_bytes:
            return path.stat().st_size
        for colors in (256, 192, 128, 96, 64):
            paletted = _quantize(image, colors, keep)
            paletted.save(path, format="PNG", optimize=True)
            if path.stat().st_size <= max_bytes:
                return path.stat().st_size
        image = fit(image, int(image.width * 0.9))


def _quantize(image: Image.Image, colors: int, keep: list[tuple[int, int, int]]) -> Image.Image:
    """``image`` with ``colors`` palette entries: an octree palette of the picture plus ``keep`` exactly."""
    base = image.quantize(colors=colors - len(keep), method=Image.Quantize.FASTOCTREE)
    palette = list(base.getpalette() or [])[: 3 * (colors - len(keep))]
    for color in keep:
        palette += list(color)
    target = Image.new("P", (1, 1))
    target.putpalette(palette)
    return image.quantize(palette=target, dither=Image.Dither.NONE)


def gallery_entry(slide: Slide, data: Path, model: Path, work: Path, out: Path, width: int,
                  max_bytes: int) -> dict[str, Any]:
    """Predict one slide, write its side-by-side PNG, return what ``gallery.json`` records for it."""
    path = data / slide.file
    wall = predict(slide, path, model, work)
    slide_id = path.stem  # what `hookseg predict` names the slide's output folder
    folder = work / slide_id
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    overlay = Image.open(folder / "overlay.png").convert("RGB")
    with open_slide(path, mpp=slide.mpp) as reader:
        array, _ = reader.thumbnail(max(overlay.size))  # the same call predict makes for overlay.png
        info = reader.info()
    thumb = Image.fromarray(np.asarray(array, np.uint8))
    meta = read_meta(model)
    cmap = meta.class_map
    legend = [(cmap.display_names[i], cmap.colors[i]) for i in range(1, cmap.num_classes)]
    w0, h0 = info["dimensions"]
    lines = [
        f"{slide.file}  ({info['backend']}, {info['vendor']}; {w0} x {h0} px, "
        f"{len(info['levels'])} level(s); mpp {info['mpp']:.3f}: {slide.mpp_source})",
        f"hookseg predict: {wall:.1f} s wall ({summary['runtime_s']:.1f} s in predict_slide), "
        f"{summary['tiles']} tile(s) of {meta.fov.size} px at {summary['mpp']} um/px; model {model.name}",
        CAVEAT,
    ]
    png = out / f"{slide.name}.png"
    keep = [(0, 0, 0), (255, 255, 255), TEXT_GREY, *(color for _, color in legend)]
    size = save_small(compose(thumb, overlay, lines, legend, width), png, max_bytes, keep)
    return {
        "file": slide.file, "png": png.name, "png_bytes": size, "backend": info["backend"],
        "vendor": info["vendor"], "dimensions": [w0, h0], "levels": len(info["levels"]),
        "mpp": info["mpp"], "mpp_source": slide.mpp_source, "predict_wall_s": round(wall, 1),
        "predict_slide_runtime_s": summary["runtime_s"], "tiles": summary["tiles"],
        "output_mpp": summary["mpp"], "area_mm2": {k: round(v, 4) for k, v in summary["area_mm2"].items()},
        "regions": summary["regions"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path, help="hookseg model (.keras) or ONNX export")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"the real slides (default {DEFAULT_DATA})")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "hookseg-gallery",
                        help="prediction outputs (labels/probability TIFFs, GeoJSON, overlay)")
    parser.add_argument("--out", type=Path, default=HERE, help="where the PNGs and gallery.json go")
    parser.add_argument("--width", type=int, default=1200, help="PNG width in px")
    parser.add_argument("--max-kb", type=int, default=300, help="largest PNG allowed, in KB")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    entries = []
    for slide in SLIDES:
        entry = gallery_entry(slide, args.data, args.model.resolve(), args.work, args.out, args.width,
                              args.max_kb * 1000)
        entries.append(entry)
        print(f"{slide.file}: {entry['predict_wall_s']} s wall, {entry['predict_slide_runtime_s']} s "
              f"predict_slide, {entry['tiles']} tiles -> {entry['png']} ({entry['png_bytes'] // 1000} KB)")
    record = {"model": str(args.model), "caveat": CAVEAT, "slides": entries}
    (args.out / "gallery.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

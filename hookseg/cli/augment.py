"""``hookseg augment`` (presets on one image) and ``hookseg augment-gallery`` (every preset, a grid)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from hookseg.errors import HooksegError
from hookseg.io import atomic_path

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    one = subparsers.add_parser("augment", help="apply augmentation presets to one RGB image")
    one.add_argument("image", type=Path, help="input image (PNG, JPEG, TIFF readable by OpenCV)")
    one.add_argument("--preset", action="append", required=True, help="preset name; repeat to combine")
    one.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    one.add_argument("--force", action="store_true", help="apply every transform of the presets (p = 1)")
    one.add_argument(
        "--config", type=Path, default=None, help="augmentation config (default configs/augment.yaml)"
    )
    one.add_argument("--out", type=Path, required=True, help="output PNG")
    one.set_defaults(func=run_augment)

    grid = subparsers.add_parser("augment-gallery", help="grid of one patch under every preset")
    grid.add_argument("--out", type=Path, required=True, help="output PNG")
    grid.add_argument(
        "--image", type=Path, default=None, help="patch to show (default: a synthetic IHC patch)"
    )
    grid.add_argument("--samples", type=int, default=4, help="draws per preset (default 4)")
    grid.add_argument("--cell", type=int, default=192, help="cell size in pixels (default 192)")
    grid.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    grid.add_argument(
        "--config", type=Path, default=None, help="augmentation config (default configs/augment.yaml)"
    )
    grid.set_defaults(func=run_gallery)


def read_rgb(path: Path) -> np.ndarray:
    import cv2

    if not path.is_file():
        msg = f"{path}: no such image file. Expected the path of an RGB image (PNG, JPEG, TIFF)"
        raise HooksegError(msg, path=path)
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        msg = f"{path}: cannot read the image. Expected an RGB image file that OpenCV reads (PNG, JPEG, TIFF)"
        raise HooksegError(msg, path=path)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def write_rgb(path: Path, rgb: np.ndarray) -> None:
    import cv2

    params = [cv2.IMWRITE_PNG_COMPRESSION, 9] if path.suffix.lower() == ".png" else []
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params):
            msg = f"{path}: OpenCV could not write the image. Expected a suffix such as .png or .jpg"
            raise HooksegError(msg, path=path)


def synthetic_ihc_patch(size: int = 512, seed: int = 0) -> np.ndarray:
    """A DAB + haematoxylin-like patch: white glass, pale stroma, blue nuclei, brown membranes.

    Used when no image is given, so the gallery and the bench run anywhere.
    """
    import cv2

    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), (238, 236, 240), np.uint8)
    cv2.ellipse(
        img, (size // 2, size // 2), (int(size * 0.45), int(size * 0.35)), 20, 0, 360, (214, 210, 226), -1
    )
    for _ in range(size // 6):  # stroma fibres
        p0 = rng.integers(0, size, 2)
        p1 = p0 + rng.integers(-size // 8, size // 8, 2)
        cv2.line(img, tuple(int(v) for v in p0), tuple(int(v) for v in p1), (200, 196, 216), 2)
    for _ in range(size // 8):  # cells: brown membrane ring around a blue nucleus
        c = tuple(int(v) for v in rng.integers(size // 10, size - size // 10, 2))
        r = int(rng.integers(size // 60 + 3, size // 30 + 5))
        if rng.random() < 0.6:
            cv2.circle(img, c, r + 4, (150, 95, 45), 3)
        cv2.ellipse(img, c, (r, int(r * 0.7)), float(rng.uniform(0, 180)), 0, 360, (95, 105, 175), -1)
    noise = rng.normal(0, 4, img.shape)
    return np.clip(cv2.GaussianBlur(img, (3, 3), 0) + noise, 0, 255).astype(np.uint8)


def run_augment(args: argparse.Namespace) -> int:
    from hookseg.augment import PairedAugment  # albumentations only when used

    image = read_rgb(args.image)
    aug = PairedAugment(args.preset, args.config, seed=args.seed, force=args.force)
    out, _, _, _ = aug(image, rng=np.random.default_rng(args.seed))
    write_rgb(args.out, out)
    log.info("wrote %s (%s)", args.out, aug)
    return 0


def _label(cell: np.ndarray, text: str) -> np.ndarray:
    import cv2

    out = cell.copy()
    cv2.putText(out, text, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def gallery(image: np.ndarray, config_path: Path | None, *, samples: int, cell: int, seed: int) -> np.ndarray:
    """Rows: the original, then each preset with every transform forced on; columns: independent draws."""
    import cv2

    from hookseg.augment import PairedAugment, load_config

    config = load_config(config_path)
    small = cv2.resize(image, (cell, cell), interpolation=cv2.INTER_AREA)
    rows = [np.hstack([_label(small, "original")] + [small] * (samples - 1))]
    for name in config.presets:
        aug = PairedAugment([name], config, seed=seed, force=True)
        rng = np.random.default_rng(seed)
        cells = []
        for i in range(samples):
            out = aug(image, rng=rng)[0]
            out = cv2.resize(out, (cell, cell), interpolation=cv2.INTER_AREA)
            cells.append(_label(out, name) if i == 0 else out)
        rows.append(np.hstack(cells))
    return np.vstack(rows)


def run_gallery(args: argparse.Namespace) -> int:
    if args.samples < 1 or args.cell < 32:
        msg = f"--samples must be >= 1 and --cell >= 32. Received: samples={args.samples}, cell={args.cell}"
        raise HooksegError(msg)
    image = read_rgb(args.image) if args.image is not None else synthetic_ihc_patch(512, args.seed)
    write_rgb(args.out, gallery(image, args.config, samples=args.samples, cell=args.cell, seed=args.seed))
    log.info("wrote %s", args.out)
    return 0

"""The style bank behind the ``gan`` preset: ``bank(image, style_seed) -> image`` with trained generators.

Decision: the bank runs the generator on the fly instead of holding pre-generated styled copies. The loader
hands the slot freshly sampled (and geometrically augmented) pixels, not an id of a stored training sample,
so a pre-generated copy could only be found by hashing pixels, and would never exist for a new crop. A
small generator restyles a 128-px view in milliseconds on a CPU; ``hookseg stylegan bank`` can still render
a preview of every style.

``style_seed`` fixes everything random: which generator, which target domain, z and the noise. The slot
draws one seed per sample, so the target and the context of a sample get the same style (the noise differs
with the view's size, the style does not). The bank pickles without its Keras models and loads them lazily,
once per process, behind a lock for thread workers.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from hookseg.errors import ConfigError
from hookseg.io import write_json
from stylegan_aug.data import to_uint8, to_unit

log = logging.getLogger(__name__)

GENERATOR_FILE = "generator.keras"
META_FILE = "stylegan.json"
BANK_FILE = "bank.json"
META_FORMAT = "hookseg-stylegan/1"
BANK_FORMAT = "hookseg-stylegan-bank/1"


def _read_json_object(path: Path, *, missing: str) -> dict[str, Any]:
    """A JSON object from ``path``; a missing, malformed or non-object file is a one-line ConfigError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: {missing}"
        raise ConfigError(msg, path=path) from None
    except json.JSONDecodeError as err:
        msg = f"{path}: invalid JSON ({err.msg} at line {err.lineno})"
        raise ConfigError(msg, path=path) from None
    if not isinstance(data, dict):
        msg = f"{path}: expected a JSON object. Received: {type(data).__name__}"
        raise ConfigError(msg, path=path)
    return data


def read_meta(folder: str | Path) -> dict[str, Any]:
    """The ``stylegan.json`` of a trained generator folder (source, targets, z_dim, noise layers, ...)."""
    folder = Path(folder)
    path = folder / META_FILE
    meta = _read_json_object(path, missing=(f"not a trained StyleGAN folder (no {META_FILE}). Expected the "
                                            "--out folder of `hookseg stylegan train`"))
    if meta.get("format") != META_FORMAT or not (folder / GENERATOR_FILE).is_file():
        msg = (f"{path}: expected format {META_FORMAT!r} and {GENERATOR_FILE} beside it. "
               f"Received: format={meta.get('format')!r}")
        raise ConfigError(msg, path=path)
    return meta


def load_generator(folder: str | Path):
    import keras

    import stylegan_aug.layers  # noqa: F401 - registers the generator's layers with Keras

    return keras.saving.load_model(Path(folder) / GENERATOR_FILE, safe_mode=True, compile=False)


def compile_generator(model):
    """``model(inputs, training=False)``, traced once per input shape on TensorFlow.

    Why: an eager call of the functional generator costs ~80 ms for one 128-px view on this CPU, mostly
    Python overhead per layer; the traced call ~13 ms. Keras' own ``predict_on_batch`` relaxes new shapes
    to ``None`` dims, which ``UpSampling2D(bilinear)`` cannot take, so each shape gets its own trace
    (a loader sees two or three shapes). Other backends run eagerly.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return model
    import tensorflow as tf

    traced = tf.function(lambda inputs: model(inputs, training=False), reduce_retracing=False)
    return lambda inputs, training=False: traced(inputs)


def stylise(generator, images: np.ndarray, domains: np.ndarray, rng: np.random.Generator, *,
            z_dim: int, noise_layers: int, multiple: int, batch_size: int = 32) -> np.ndarray:
    """Restyle uint8 RGB ``images`` (N, H, W, 3) to target ``domains`` (N,) with z and noise from ``rng``.

    Sides that are not a multiple of ``multiple`` are reflect-padded and cropped back.
    """
    from keras import ops

    n, h, w = images.shape[:3]
    ph, pw = -h % multiple, -w % multiple
    if ph or pw:
        images = np.stack([cv2.copyMakeBorder(im, 0, ph, 0, pw, cv2.BORDER_REFLECT_101) for im in images])
    z = rng.standard_normal((n, z_dim)).astype(np.float32)
    noise = rng.standard_normal((n, h + ph, w + pw, noise_layers)).astype(np.float32)
    out = np.empty((n, h, w, 3), np.uint8)
    for start in range(0, n, batch_size):
        part = slice(start, start + batch_size)
        inputs = [to_unit(images[part]), z[part], np.asarray(domains[part], np.int32), noise[part]]
        styled = ops.convert_to_numpy(generator(inputs, training=False))
        out[part] = to_uint8(styled[:, :h, :w])
    return out


class StyleBank:
    """Callable ``(image uint8 H x W x 3, style_seed) -> image`` over one or more trained generators.

    Args:
        generators: folders written by ``hookseg stylegan train``.
        weights: relative probability of each generator (default equal); a generator's target domains
            are equally likely.
    """

    def __init__(self, generators: Sequence[str | Path], weights: Sequence[float] | None = None) -> None:
        self.paths = [Path(g) for g in generators]
        if not self.paths:
            msg = "StyleBank needs at least one generator folder. Received: generators=[]"
            raise ConfigError(msg)
        weights = [1.0] * len(self.paths) if weights is None else [float(w) for w in weights]
        if len(weights) != len(self.paths) or min(weights) < 0 or sum(weights) <= 0:
            msg = (f"`weights` must give one non-negative weight per generator, not all 0. Received: "
                   f"weights={weights} for {len(self.paths)} generator(s)")
            raise ConfigError(msg)
        self.weights = weights
        self.metas = [read_meta(p) for p in self.paths]
        probs = [w / len(m["targets"])
                 for w, m in zip(weights, self.metas, strict=True) for _ in m["targets"]]
        self.styles = [(g, d) for g, m in enumerate(self.metas) for d in range(len(m["targets"]))]
        self._probabilities = np.array(probs) / sum(probs)
        self._models: list[Any] | None = None
        self._lock = threading.Lock()

    def style_names(self) -> list[str]:
        return [f"{self.metas[g]['source']}->{self.metas[g]['targets'][d]}" for g, d in self.styles]

    def _generators(self) -> list[Any]:
        with self._lock:
            if self._models is None:
                self._models = [compile_generator(load_generator(p)) for p in self.paths]
                log.info("style bank: loaded %d generator(s): %s", len(self.paths),
                         ", ".join(self.style_names()))
            return self._models

    def apply(self, image: np.ndarray, style_seed: int, style: int | None = None) -> np.ndarray:
        """Restyle one image; ``style`` forces an index of ``style_names()`` (previews)."""
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            msg = (f"StyleBank expects an H x W x 3 uint8 RGB image. "
                   f"Received: {image.shape}, dtype={image.dtype}")
            raise ValueError(msg)
        rng = np.random.default_rng(int(style_seed))
        pick = int(rng.choice(len(self.styles), p=self._probabilities)) if style is None else int(style)
        g, d = self.styles[pick]
        meta = self.metas[g]
        out = stylise(self._generators()[g], image[None], np.array([d]), rng, z_dim=int(meta["z_dim"]),
                      noise_layers=int(meta["noise_layers"]), multiple=int(meta["size_multiple"]))
        return out[0]

    def __call__(self, image: np.ndarray, style_seed: int) -> np.ndarray:
        return self.apply(image, style_seed)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_models"] = None  # Keras models stay in their process; each worker loads its own
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"StyleBank(styles={self.style_names()})"


def write_bank(path: str | Path, generators: Sequence[str | Path],
               weights: Sequence[float] | None = None) -> Path:
    """Write a bank file listing generator folders (relative to the file when below it); returns its path."""
    path = Path(path)
    if path.suffix != ".json":
        path = path / BANK_FILE
    StyleBank(generators, weights)  # validates every folder now, not at the first training batch
    base = path.parent.resolve()
    entries = []
    for g in generators:
        g = Path(g).resolve()
        entries.append(str(g.relative_to(base)) if g.is_relative_to(base) else str(g))
    write_json(path, {"format": BANK_FORMAT, "generators": entries,
                      "weights": list(weights) if weights is not None else None})
    return path


def load_bank(path: str | Path) -> StyleBank | None:
    """A bank from a generator folder, a folder holding ``bank.json``, or a bank JSON file.

    A bank file with ``"generators": []`` is the empty bank and loads as None (the ``gan`` slot stays a
    no-op). Why: a DVC phase names its bank as a dependency, and phases without styles need a real file.
    """
    path = Path(path)
    if path.is_dir() and (path / META_FILE).is_file():
        return StyleBank([path])
    if path.is_dir():
        path = path / BANK_FILE
    data = _read_json_object(path, missing=(f"no style bank here. Expected a generator folder ({META_FILE} "
                                            f"+ {GENERATOR_FILE}), a folder with {BANK_FILE}, or a bank "
                                            "JSON file"))
    if data.get("format") != BANK_FORMAT or not isinstance(data.get("generators"), list):
        msg = f"{path}: expected format {BANK_FORMAT!r} with a `generators` list. Received: {sorted(data)}"
        raise ConfigError(msg, path=path)
    if not data["generators"]:
        return None
    folders = [p if Path(p).is_absolute() else path.parent / p for p in data["generators"]]
    return StyleBank(folders, data.get("weights"))

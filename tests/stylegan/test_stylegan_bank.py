"""The style bank behind the `gan` preset: contract, determinism, p = 0.3, both views alike, pickling, CLI."""

from __future__ import annotations

import argparse
import json
import pickle

import numpy as np
import pytest

from hookseg.augment import PairedAugment
from hookseg.errors import ConfigError
from stylegan_aug import cli
from stylegan_aug.bank import StyleBank, load_bank, write_bank


def _image(seed: int, size: int = 32) -> np.ndarray:
    return np.random.default_rng(seed).integers(40, 230, (size, size, 3), dtype=np.uint8)


class RecordingBank:
    """Picklable wrapper that records the seeds and images the slot passes to the bank."""

    def __init__(self, bank: StyleBank) -> None:
        self.bank = bank
        self.calls: list[tuple[int, tuple[int, ...]]] = []

    def __call__(self, image: np.ndarray, style_seed: int) -> np.ndarray:
        self.calls.append((style_seed, image.shape))
        return self.bank(image, style_seed)


def test_bank_contract_and_determinism(trained_generator):
    bank = load_bank(trained_generator)
    assert bank.style_names() == ["DS1->DS3"]
    image = _image(0)
    out = bank(image, 7)
    assert out.shape == image.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out, bank(image, 7))  # a seed is a style
    assert not np.array_equal(out, bank(image, 8))  # another seed, another z and noise
    odd = _image(1, size=30)  # not a multiple of the generator's size multiple: padded and cropped back
    assert bank(odd, 3).shape == odd.shape
    with pytest.raises(ValueError, match="uint8"):
        bank(image.astype(np.float32), 1)


def test_bank_pickles_without_its_model(trained_generator):
    bank = load_bank(trained_generator)
    image = _image(2)
    expected = bank(image, 11)
    assert bank._models is not None
    blob = pickle.dumps(bank)
    assert len(blob) < 20_000  # metadata only: the Keras model is not in the pickle
    clone = pickle.loads(blob)
    assert clone._models is None
    np.testing.assert_array_equal(clone(image, 11), expected)  # loads lazily in the new "worker"


def test_gan_preset_applies_the_bank_with_p_03_to_both_views_alike(trained_generator):
    recorder = RecordingBank(load_bank(trained_generator))
    aug = PairedAugment(["gan"], ratio=4, seed=0)
    assert aug.attach_style_bank(recorder) == 1
    rng = np.random.default_rng(0)
    draws = 200
    styled = 0
    for i in range(draws):
        target, context = _image(i), _image(10_000 + i, size=16)
        t, _, c, _ = aug(target, None, context, None, rng=rng)
        changed_t, changed_c = not np.array_equal(t, target), not np.array_equal(c, context)
        assert changed_t == changed_c  # the slot fires for the sample, i.e. for both views or neither
        if changed_t:
            seed_t, seed_c = recorder.calls[-2][0], recorder.calls[-1][0]
            assert seed_t == seed_c  # one style for both fields of view
            if styled < 3:  # the views are exactly the bank's output for that seed
                np.testing.assert_array_equal(t, recorder.bank(target, seed_t))
                np.testing.assert_array_equal(c, recorder.bank(context, seed_t))
            styled += 1
    assert 2 * styled == len(recorder.calls)
    assert 0.3 * draws - 20 <= styled <= 0.3 * draws + 20, styled  # ~3 binomial sd around p = 0.3
    clone = pickle.loads(pickle.dumps(aug))  # what a loader worker receives
    t, _, c, _ = clone(_image(0), None, _image(1, 16), None, rng=np.random.default_rng(3))
    assert t.shape == (32, 32, 3) and c.shape == (16, 16, 3)


def test_bank_file_with_weights_and_errors(trained_generator, tmp_path):
    path = write_bank(tmp_path / "banks", [trained_generator, trained_generator], [1.0, 3.0])
    assert path.name == "bank.json"
    assert json.loads(path.read_text())["weights"] == [1.0, 3.0]
    bank = load_bank(path.parent)
    assert len(bank.styles) == 2 and bank._probabilities.tolist() == [0.25, 0.75]
    with pytest.raises(ConfigError, match="no style bank here"):
        load_bank(tmp_path)  # neither stylegan.json nor bank.json
    with pytest.raises(ConfigError, match="not a trained StyleGAN folder"):
        StyleBank([tmp_path])
    with pytest.raises(ConfigError, match="weights"):
        StyleBank([trained_generator], [1.0, 2.0])


def test_cli_bank_and_eval(trained_generator, two_domain_manifest, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["stylegan", "bank", "--generator", str(trained_generator), "--out",
                              str(tmp_path / "bank.json"), "--preview", str(tmp_path / "preview.png"),
                              "--image", str(tmp_path / "patch.png")])
    import cv2

    cv2.imwrite(str(tmp_path / "patch.png"), _image(5, 64))
    assert args.func(args) == 0
    assert (tmp_path / "bank.json").is_file()
    preview = cv2.imread(str(tmp_path / "preview.png"))
    assert preview.shape[1] == 150 + 4 * (128 + 2)  # label + 4 seeds of the one style, none cut off
    args = parser.parse_args(["stylegan", "eval", "--generator", str(trained_generator), "--manifest",
                              str(two_domain_manifest), "--patches", "6", "--out", str(tmp_path / "m.json"),
                              "--gallery", str(tmp_path / "gallery.png")])
    assert args.func(args) == 0
    report = json.loads((tmp_path / "m.json").read_text())["DS1->DS3"]
    assert 0 <= report["ssim_mean"] <= 1
    assert "DS1->DS3: SSIM" in capsys.readouterr().out


def test_gan_without_a_generator_is_refused_and_a_real_bank_fills_it(trained_generator, tmp_path):
    from hookseg.config import CONFIG_DIR
    from hookseg.train.augment_hook import build_augment
    from hookseg.train.config import load_stage_config

    empty = CONFIG_DIR / "style_bank_empty.json"  # what the DVC phases without styles depend on
    assert load_bank(empty) is None
    base = load_stage_config(CONFIG_DIR / "smoke.yaml", "master").with_train(augment=["gan"])
    for bank in (str(empty), "none"):  # `gan` asked for, nothing to draw from: not a silent no-op
        with pytest.raises(ConfigError, match="the `gan` preset needs a style bank"):
            build_augment(base.with_train(style_bank=bank))
    path = write_bank(tmp_path / "bank.json", [trained_generator])
    slots = build_augment(base.with_train(style_bank=str(path))).pipeline.style_slots()
    assert len(slots) == 1 and slots[0].bank.style_names() == ["DS1->DS3"]
    (tmp_path / "broken.json").write_text(json.dumps({"format": "hookseg-stylegan-bank/1"}))
    with pytest.raises(ConfigError, match="broken.json: expected format"):
        load_bank(tmp_path / "broken.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(ConfigError, match="list.json: expected a JSON object. Received: list"):
        load_bank(tmp_path / "list.json")

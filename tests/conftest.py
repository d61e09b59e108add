"""Shared fixtures: real files from ../shared/realdata (named by content), and the --run-slow tier."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get("HOOKSEG_REALDATA", REPO_ROOT.parent / "shared" / "realdata"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_configure(config: pytest.Config) -> None:
    """One Ray token for the session, set before xdist starts its workers (they inherit it).

    Ray 2.60's first local ``ray.init`` on a machine writes a new ~/.ray/auth_token when there is none; two
    workers doing that at once can each start a runtime under a token the other then overwrites.
    """
    os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))


# Files that take minutes on a 2-core machine, longest first (pytest --durations). `make test` runs two xdist
# workers handing out whole files in collection order (--dist loadfile --no-loadscope-reorder): these go
# first, so no worker starts a long file when the other is nearly done.
LONG_FILES_FIRST = (
    "pipeline/test_dvc_pipeline.py",
    "train/test_train_stage.py",
    "model/test_backend_portability.py",
    "train/test_four_classes.py",
    "model/test_export.py",
    "infer/test_predict_onnx.py",
    "train/test_distill.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONG_FILES_FIRST)}
    tests = Path(__file__).parent
    items.sort(key=lambda item: rank.get(item.path.relative_to(tests).as_posix(), len(rank)))  # stable
    if config.getoption("--run-slow"):
        return
    skip_slow = pytest.mark.skip(reason="slow: pass --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


def _realdata_file(name: str) -> Path:
    path = REALDATA / name
    if not path.exists():
        pytest.fail(f"missing real-data file {path}; CI runs with ../shared beside the checkout")
    return path


@pytest.fixture(scope="session")
def realdata_dir() -> Path:
    return REALDATA


@pytest.fixture(scope="session")
def sample_svs_jpeg() -> Path:
    """Aperio SVS, JPEG tiles, one level, 0.499 um/px."""
    return _realdata_file("CMU-1-Small-Region.svs")


@pytest.fixture(scope="session")
def sample_svs_jp2k_no_mpp() -> Path:
    """Aperio SVS, JPEG-2000 tiles, two levels, no mpp property."""
    return _realdata_file("tcga-cr-7395-01a-01-ts1.svs")


@pytest.fixture(scope="session")
def sample_ome_tiff() -> Path:
    """OME-TIFF that OpenSlide refuses, 0.227 um/px."""
    return _realdata_file("OS-1-detail.ome.tif")


@pytest.fixture(scope="session")
def sample_ihc_png() -> Path:
    """512x512 DAB + haematoxylin RGB image."""
    return _realdata_file("skimage_ihc.png")


@pytest.fixture(scope="session")
def sample_he_png() -> Path:
    return _realdata_file("tiatoolbox_target_image.png")


@pytest.fixture(scope="session")
def sample_dsa_json() -> Path:
    """DSA annotation documents for a TCGA breast slide."""
    return _realdata_file("TCGA-A2-A0YE-01Z-00-DX1_annotations_DSA.json")


@pytest.fixture(scope="session")
def sample_bcss_mask() -> Path:
    """BCSS label mask; codes in sample_GTcodes.csv."""
    return _realdata_file("TCGA-A2-A0YE-01Z-00-DX1_left-59206_top-33505_mag-BASE_mask.png")


@pytest.fixture(scope="session")
def sample_bcss_codes() -> Path:
    return _realdata_file("sample_GTcodes.csv")


@pytest.fixture(scope="session")
def colour_model(tmp_path_factory):
    """A saved dual-input model labelling band colours (tests.factories): the right answer is known."""
    from hookseg.model_io import ModelMeta, save_model
    from hookseg.sampling import FieldOfView
    from tests.factories import nearest_colour_model

    model = nearest_colour_model(64, context=True)
    meta = ModelMeta(FieldOfView(size=64, mpp=2.0, context_size=64, context_mpp=8.0), stage="test")
    path = save_model(model, tmp_path_factory.mktemp("models") / "colour.keras", meta)
    return model, meta, path


@pytest.fixture(scope="session")
def munet_and_onnx(tmp_path_factory):
    """(model, .keras, ONNX export folder) of a seeded B0 m-UNet with a sharpened head (its labels vary over
    a slide, as a trained model's do), 64 px at 4 / 8 um/px; exported once per session (30 s each)."""
    import keras

    from hookseg.annotations import ClassMap
    from hookseg.cli import main
    from hookseg.model import create_model
    from hookseg.model_io import ModelMeta, save_model
    from hookseg.model_meta import FieldOfView

    keras.utils.set_random_seed(7)
    folder = tmp_path_factory.mktemp("munet_onnx")
    model = create_model("munet", encoder="b0", input_size=64, context_ratio=2)
    head = model.get_layer("final_logits")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * 30, bias])
    fov = FieldOfView(size=64, mpp=4.0, context_size=64, context_mpp=8.0)
    path = save_model(model, folder / "m.keras", ModelMeta(fov, ClassMap.default(), stage="test"))
    export = folder / "m-onnx"
    assert main(["export", "--model", str(path), "--format", "onnx", "--out", str(export)]) == 0
    return model, path, export

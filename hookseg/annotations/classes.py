"""The model's classes and the clubbing of annotators' fine labels into them (configs/classes.yaml).

Unknown labels are an error, never dropped: a label silently lost turns tissue into "unannotated" and the
model never learns it (wholeslidedata's QuPath parser drops them; we do not).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NoReturn

from hookseg.config import from_mapping, load_yaml
from hookseg.errors import AnnotationError, ConfigError

log = logging.getLogger(__name__)

DEFAULT_CLASSES_PATH = Path(__file__).resolve().parents[2] / "configs" / "classes.yaml"
IGNORE_NAME = "ignore"
IGNORE_ID = 255  # the ignore id where no class map is at hand yet; a ClassMap's ``ignore_id`` is the real one


@dataclasses.dataclass(frozen=True)
class ClassSpec:
    """One model class (or the ignore target) as written in the YAML."""

    id: int
    name: str
    display_name: str
    color: tuple[int, ...]
    description: str = ""


@dataclasses.dataclass(frozen=True)
class _ClassesFile:
    classes: list[ClassSpec]
    ignore: ClassSpec
    clubbing: dict[str, str] = dataclasses.field(default_factory=dict)


def normalize_label(label: str) -> str:
    """Case-insensitive key; spaces and hyphens count as underscores ("Blood vessel" == "blood_vessel")."""
    return re.sub(r"[\s\-_]+", "_", str(label).strip().lower()).strip("_")


@dataclasses.dataclass(frozen=True)
class ClassMap:
    """Class ids, names and colours, the ignore target, and the fine label -> class clubbing."""

    classes: tuple[ClassSpec, ...]
    ignore: ClassSpec
    clubbing: Mapping[str, str] = dataclasses.field(
        hash=False
    )  # a plain dict: it must pickle for Ray workers
    path: str | None = None

    # ---- construction -------------------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str | Path) -> ClassMap:
        """Load and validate a class map; errors name ``file:key``, what was expected and received."""
        path = Path(path)
        raw = from_mapping(_ClassesFile, load_yaml(path), source=path)
        return cls._validated(raw, path)

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, source: str | Path) -> ClassMap:
        """A class map saved by ``to_dict`` (a model's metadata), validated like the YAML."""
        raw = from_mapping(_ClassesFile, data, source=source)
        return cls._validated(raw, Path(source))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for a model's metadata; ``from_dict`` reads it back."""
        def spec(s: ClassSpec) -> dict[str, object]:
            return {**dataclasses.asdict(s), "color": list(s.color)}

        return {"classes": [spec(c) for c in self.classes], "ignore": spec(self.ignore),
                "clubbing": dict(self.clubbing)}

    @classmethod
    def default(cls, path: str | Path | None = None) -> ClassMap:
        """The repository's configs/classes.yaml, or ``path`` when given."""
        return cls.from_yaml(DEFAULT_CLASSES_PATH if path is None else path)

    @classmethod
    def _validated(cls, raw: _ClassesFile, path: Path) -> ClassMap:
        def fail(key: str, expected: str, received: object) -> NoReturn:
            msg = f"{path}:{key}: expected {expected}. Received: {received!r}"
            raise ConfigError(msg, path=path)

        ignore_id = raw.ignore.id
        if not 0 < ignore_id <= 255:
            fail("ignore.id", "an integer in 1..255 (label masks are uint8)", ignore_id)
        if normalize_label(raw.ignore.name) != IGNORE_NAME:
            fail(
                "ignore.name", f"{IGNORE_NAME!r} (clubbing targets refer to it by that name)", raw.ignore.name
            )
        if not raw.classes:
            fail("classes", "a non-empty list of classes", raw.classes)
        specs = sorted(raw.classes, key=lambda c: c.id)
        names: dict[str, int] = {}
        for i, spec in enumerate(raw.classes):
            _check_color(spec.color, f"classes[{i}].color", fail)
            key = normalize_label(spec.name)
            if key in names or key == IGNORE_NAME:
                fail(f"classes[{i}].name", "a unique class name other than 'ignore'", spec.name)
            names[key] = spec.id
        _check_color(raw.ignore.color, "ignore.color", fail)
        ids = [c.id for c in specs]
        if len(set(ids)) != len(ids):
            fail("classes", "unique ids", sorted(ids))
        if ids != list(range(len(ids))):
            fail("classes", f"ids 0..{len(ids) - 1} (one per model output channel)", ids)
        if max(ids) >= ignore_id:
            fail("classes", f"ids below the ignore id {ignore_id}", ids)
        targets = {*names, IGNORE_NAME}
        clubbing: dict[str, str] = {}
        for fine, target in raw.clubbing.items():
            key, value = normalize_label(fine), normalize_label(target)
            if value not in targets:
                fail(f"clubbing.{fine}", f"a class name or 'ignore' (one of {sorted(targets)})", target)
            if key in names and value != key or key == IGNORE_NAME and value != IGNORE_NAME:
                fail(
                    f"clubbing.{fine}",
                    f"the class itself ({key!r}); class names always club to themselves",
                    target,
                )
            if clubbing.get(key, value) != value:
                fail(
                    f"clubbing.{fine}",
                    f"one target per label (it normalises to {key!r}, already -> {clubbing[key]!r})",
                    target,
                )
            clubbing[key] = value
        for key in targets:
            clubbing[key] = key
        return cls(
            classes=tuple(specs),
            ignore=raw.ignore,
            clubbing=clubbing,
            path=str(path),
        )

    # ---- queries --------------------------------------------------------------------------------------
    @property
    def ignore_id(self) -> int:
        return self.ignore.id

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    @property
    def display_names(self) -> tuple[str, ...]:
        return tuple(c.display_name for c in self.classes)

    @property
    def colors(self) -> tuple[tuple[int, int, int], ...]:
        return tuple(_rgb(c.color) for c in self.classes)

    def _spec(self, class_id: int) -> ClassSpec:
        if class_id == self.ignore.id:
            return self.ignore
        if isinstance(class_id, int) and 0 <= class_id < len(self.classes):
            return self.classes[class_id]
        msg = (
            f"Unknown class id. Received: class_id={class_id!r}. "
            f"Expected 0..{len(self.classes) - 1} or the ignore id {self.ignore.id} ({self.path})"
        )
        raise KeyError(msg)

    def name_of(self, class_id: int) -> str:
        return self._spec(int(class_id)).name

    def color_of(self, class_id: int) -> tuple[int, int, int]:
        return _rgb(self._spec(int(class_id)).color)

    def id_of(self, name: str) -> int:
        """Id of a class name or 'ignore' (no clubbing)."""
        key = normalize_label(name)
        for spec in (*self.classes, self.ignore):
            if normalize_label(spec.name) == key:
                return spec.id
        msg = (
            f"Unknown class name. Received: name={name!r}. Expected one of {[*self.names, self.ignore.name]}"
        )
        raise KeyError(msg)

    def is_known(self, label: str) -> bool:
        return normalize_label(label) in self.clubbing

    def club_name(self, label: str, *, source: str | Path | None = None) -> str:
        """The class name (or 'ignore') that ``label`` clubs into; unknown labels are an AnnotationError."""
        target = self.clubbing.get(normalize_label(label))
        if target is None:
            where = f" in {source}" if source else ""
            msg = (
                f"Unknown annotation label{where}. Received: label={label!r}. Expected a class name, "
                f"'ignore' or a fine label listed under `clubbing:` in {self.path}; add it there to use it"
            )
            raise AnnotationError(msg, path=source)
        return target

    def club(self, label: str, *, source: str | Path | None = None) -> int:
        """Class id (or the ignore id) for a source label."""
        return self.id_of(self.club_name(label, source=source))

    def colors_by_name(self) -> dict[str, tuple[int, int, int]]:
        """Colours keyed by class name (and 'ignore'): what writers use for labels that are class names."""
        return {c.name: _rgb(c.color) for c in (*self.classes, self.ignore)}


def _check_color(color: tuple[int, ...], key: str, fail: Callable[[str, str, object], NoReturn]) -> None:
    if len(color) != 3 or not all(0 <= c <= 255 for c in color):
        fail(key, "[r, g, b] with integers in 0..255", list(color))


def _rgb(color: tuple[int, ...]) -> tuple[int, int, int]:
    return (int(color[0]), int(color[1]), int(color[2]))

"""Every DVC stage depends on all the project code and configs its command runs.

For each stage of dvc.yaml (templated by DVC itself), the ``hookseg <subcommand>`` calls in its cmd are found;
the project modules they run are the static import closure (``ast``, top-level and function-level imports,
``TYPE_CHECKING`` blocks left out, lazy registries' module-name strings followed) from ``hookseg.cli`` and the
subcommand's module. A module is covered when its file is a dep or lies inside a dep folder. Config files
count too: those the cmd names and those the closure's code names (``CONFIG_DIR / "infer.yaml"``).
Without this, an edit to ``hookseg/losses.py`` leaves ``dvc repro`` with nothing to do and stale metrics.
"""

from __future__ import annotations

import ast
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from hookseg.cli import COMMAND_MODULES

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("hookseg", "pseudo_label", "stylegan_aug")
DISPATCHER = "hookseg.cli"  # its module-name strings are every subcommand; only the invoked one runs
CONFIGS = {p.name: p.relative_to(REPO).as_posix() for p in (REPO / "configs").iterdir() if p.is_file()}


@dataclass(frozen=True)
class Stage:
    name: str
    cmd: str
    deps: tuple[str, ...]


@cache
def project_modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the project's packages."""
    modules = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _with_parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


class _Imports(ast.NodeVisitor):
    """Project modules a module imports anywhere in its body, plus the config files it names."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.package = module if is_package else module.rpartition(".")[0]
        self.module = module
        self.found: set[str] = set()
        self.configs: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found |= _with_parents(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            anchor = self.package.split(".")[: len(self.package.split(".")) - node.level + 1]
            base = ".".join([*anchor, *([base] if base else [])])
        self.found |= _with_parents(base)
        self.found |= {f"{base}.{alias.name}" for alias in node.names}  # submodules (attributes drop out)

    def visit_Call(self, node: ast.Call) -> None:
        """``main(["demo-cohort", ...])``: a command that runs another subcommand in process."""
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        argv = node.args[0] if node.args else None
        first = argv.elts[0] if isinstance(argv, ast.List) and argv.elts else None
        if name.endswith("main") and isinstance(first, ast.Constant) and isinstance(first.value, str):
            self.found |= {m for m, names in COMMAND_MODULES.items() if first.value in names}
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, str):
            return
        if node.value in CONFIGS or node.value in CONFIGS.values():
            self.configs.add(CONFIGS.get(node.value, node.value))
        name = node.value.split(":")[0]
        if self.module != DISPATCHER and name in project_modules():  # lazy registries: ("hookseg.x", "Class")
            self.found |= _with_parents(name)


@cache
def _direct(module: str) -> tuple[frozenset[str], frozenset[str]]:
    path = project_modules()[module]
    visitor = _Imports(module, path.name == "__init__.py")
    visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return frozenset(visitor.found & project_modules().keys()), frozenset(visitor.configs)


def closure(start: set[str]) -> tuple[set[str], set[str]]:
    """Every project module that importing ``start`` can run, and the config files their code names."""
    todo = set().union(*(_with_parents(m) for m in start)) & project_modules().keys()
    seen: set[str] = set()
    configs: set[str] = set()
    while todo:
        module = todo.pop()
        seen.add(module)
        found, named = _direct(module)
        configs |= named
        todo |= found - seen
    return seen, configs


def subcommands(cmd: str) -> list[tuple[str, list[str]]]:
    """``(subcommand, argv)`` of each ``hookseg`` call in a shell command line."""
    calls = []
    for segment in cmd.replace("&&", ";").replace("||", ";").replace("|", ";").split(";"):
        argv = shlex.split(segment)
        if argv and Path(argv[0]).name == "hookseg":
            args = [a for a in argv[1:] if not a.startswith("-")]
            calls.append((args[0], argv[1:]))
    return calls


def command_module(subcommand: str) -> str:
    for module, names in COMMAND_MODULES.items():
        if subcommand in names:
            return module
    pytest.fail(f"hookseg has no subcommand {subcommand!r}")
    return ""


def required(stage: Stage) -> dict[str, str]:
    """Repo-relative file -> why the stage needs it."""
    needs = {}
    for subcommand, argv in subcommands(stage.cmd):
        modules, configs = closure({DISPATCHER, command_module(subcommand)})
        for module in sorted(modules):
            path = project_modules()[module].relative_to(REPO).as_posix()
            needs[path] = f"`hookseg {subcommand}` imports {module}"
        for config in sorted(configs):
            needs[config] = f"`hookseg {subcommand}` code names {config}"
        for arg in argv:
            if arg in CONFIGS.values():
                needs[arg] = f"`hookseg {subcommand}` is given {arg}"
    return needs


def covered(path: str, deps: tuple[str, ...]) -> bool:
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


def uncovered(stage: Stage) -> list[str]:
    return [f"{stage.name}: {path} is not a dep ({why})"
            for path, why in required(stage).items() if not covered(path, stage.deps)]


@cache
def dvc_stages() -> tuple[Stage, ...]:
    from dvc.repo import Repo

    with Repo(str(REPO)) as repo:
        return tuple(Stage(s.addressing, s.cmd if isinstance(s.cmd, str) else " && ".join(s.cmd),
                           tuple(d.def_path for d in s.deps)) for s in repo.index.stages)


def test_dvc_yaml_has_the_stages_this_test_expects():
    names = {s.name for s in dvc_stages()}
    assert {"cohort", "stylegan", "train_base", "report", "predict_new"} <= names
    # every stage runs a hookseg command but manual_base, which copies a model (no project code runs)
    plain = {s.name: s.cmd for s in dvc_stages() if not subcommands(s.cmd)}
    assert set(plain) == {"manual_base"}, plain
    assert {w for w in plain["manual_base"].split() if not w.startswith(("models/", "-"))} <= {"mkdir", "cp",
                                                                                               "mv", "&&"}


@pytest.mark.parametrize("stage_name", [s.name for s in dvc_stages()])
def test_every_stage_depends_on_the_code_and_configs_its_command_runs(stage_name):
    stage = next(s for s in dvc_stages() if s.name == stage_name)
    problems = uncovered(stage)
    assert not problems, "\n".join(problems)


def test_the_train_closure_reaches_the_loss_through_function_level_imports():
    modules, configs = closure({DISPATCHER, command_module("train")})
    assert {"hookseg.losses", "hookseg.class_weights", "hookseg.train.loop", "hookseg.errors"} <= modules
    assert "hookseg.cli.evaluate" not in modules  # the dispatcher's registry does not pull every subcommand
    assert "configs/augment.yaml" in configs


def test_the_check_fails_naming_stage_and_module_when_a_dep_is_missing():
    train = next(s for s in dvc_stages() if s.name.startswith("train@"))
    without_loss = Stage(train.name, train.cmd,
                         tuple(d for d in train.deps if not covered("hookseg/losses.py", (d,))))
    assert uncovered(train) == []
    assert f"{train.name}: hookseg/losses.py is not a dep (`hookseg train` imports hookseg.losses)" \
        in uncovered(without_loss)


def test_registry_strings_and_in_process_subcommands_are_followed():
    modules, _ = closure({"hookseg.slides.registry"})
    assert "hookseg.slides.openslide_reader" in modules  # READERS = {"openslide": ("hookseg.slides...", ..)}
    modules, _ = closure({DISPATCHER, command_module("cohort")})
    assert "hookseg.synth.build" in modules  # `cohort prepare` runs main(["demo-cohort", ...])
    calls = subcommands("hookseg a --x 1 && hookseg -v b c")
    assert calls == [("a", ["a", "--x", "1"]), ("b", ["-v", "b", "c"])]

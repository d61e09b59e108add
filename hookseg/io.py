"""Atomic file writes: outputs appear whole under their final name or not at all."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from hookseg.errors import OutputError


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    The temporary name keeps the final suffix so that writers choosing a format by suffix still work.
    """
    final = Path(path)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.stem}.{temp_tag()}.", suffix=f".tmp{final.suffix}",
                                        dir=final.parent)
    except OSError as err:  # a file where a folder must be, no permission, read-only file system
        msg = f"{final}: cannot write here ({err.strerror or err}). Expected a writable folder"
        raise OutputError(msg, path=final) from None
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(0o666 & ~_umask())  # mkstemp makes 0600; outputs get the permissions any new file would
    try:
        yield tmp
        tmp.replace(final)
    finally:
        if tmp.exists():
            tmp.unlink()


def temp_tag() -> str:
    """``pid<N>``: every temporary hookseg makes carries its process id, so a later run can tell a temporary
    whose writer was killed (``kill -9`` leaves it behind) from one a live process is still writing."""
    return f"pid{os.getpid()}"


_STALE = re.compile(r"(^\..+\.pid(\d+)\..*\.tmp)|(^hookseg-pyramid-pid(\d+)-)")


def remove_stale_temporaries(folder: str | Path, *, recursive: bool = True) -> int:
    """Delete the temporaries under ``folder`` whose writing process is gone; returns how many.

    Each command calls this on its output folders when it starts. Temporaries of live processes (another
    run writing into the same folder) are kept.
    """
    import shutil

    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for path in list(folder.rglob("*") if recursive else folder.iterdir()):
        match = _STALE.match(path.name)
        if match is None or _alive(int(match.group(2) or match.group(4))):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def write_yaml(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, yaml.safe_dump(obj, sort_keys=False))


def _json_default(value: Any) -> Any:
    """NumPy scalars and paths appear in summaries; write them as plain JSON values."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    msg = f"Cannot write a value of type {type(value).__name__} to JSON. Received: {value!r}"
    raise TypeError(msg)

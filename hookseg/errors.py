"""Exceptions users see. Each names the file or field, what was received and what to do.

They subclass the matching built-in and pickle with their attributes, so they cross Ray task and
PyDataset worker boundaries intact (a two-argument ``__init__`` does not unpickle without ``__reduce__``).
"""

from __future__ import annotations

from pathlib import Path


class HooksegError(Exception):
    """Base class: one-line, user-facing message; ``path`` is the offending file when there is one.

    ``exit_code`` is what the CLI returns: 1 for bad data (slides, annotations, manifests, models, outputs),
    2 for a bad request (flags, config and params files), as argparse does for usage errors.
    """

    exit_code = 1

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else str(path)

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.path))

    def __str__(self) -> str:
        return self.message


def _rebuild(cls: type[HooksegError], message: str, path: str | None) -> HooksegError:
    return cls(message, path=path)


class SlideError(HooksegError, OSError):
    """A slide cannot be opened or read, or lacks what a read needs (e.g. its mpp)."""


class AnnotationError(HooksegError, ValueError):
    """An annotation file is malformed or names a label the class map does not know."""


class ConfigError(HooksegError, ValueError):
    """A YAML config or params file, or a command-line value, has a missing or invalid key."""

    exit_code = 2


class ModelError(ConfigError):
    """A model file or export folder is missing, unreadable or lacks hookseg's metadata: bad data, exit 1."""

    exit_code = 1


class ManifestError(HooksegError, ValueError):
    """A cohort manifest has bad rows or columns."""


class OutputError(HooksegError, OSError):
    """An output cannot be written where it was asked for (no such folder, a file in the way, no space)."""

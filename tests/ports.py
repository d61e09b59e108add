"""A free TCP port on 127.0.0.1 for a test's own server (MLflow, a Ray head node)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port the OS just handed out and released: nothing listens there until the test starts its server."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

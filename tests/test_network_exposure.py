"""What a Ray runtime started by hookseg listens on: loopback only, and no dashboard server.

Left to itself, Ray 2.60 on Linux binds ``gcs_server``, both raylet ports and every worker to ``::`` (every
interface); ``hookseg.parallel.init_ray`` puts the local runtime in Ray's loopback mode (docs/reliability.md).
The test runs a real task, so a worker is up, then lists the listening sockets of every process the driver
started. Ray is imported before ``init_ray`` on purpose: the switch must work in a driver that has it loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

LIST_SOCKETS = """
import json, psutil
import ray
from hookseg.parallel import init_ray
init_ray(1)
assert ray.get(ray.remote(lambda: 7).remote()) == 7
def name(process):  # a short-lived child (a worker's helper) may be gone by the time it is asked
    try:
        return process.name()
    except psutil.NoSuchProcess:
        return None
mine = {p.pid: name(p) for p in psutil.Process().children(recursive=True)}
mine = {pid: n for pid, n in mine.items() if n is not None}
found = [(c.laddr.ip, c.laddr.port, mine[c.pid]) for c in psutil.net_connections(kind="inet")
         if c.status == psutil.CONN_LISTEN and c.pid in mine]
names = sorted(set(mine.values()))
ray.shutdown()
print(json.dumps({"listening": found, "processes": names}))
"""
LOOPBACK = ("127.", "::1", "::ffff:127.")


@pytest.fixture(scope="module")
def ray_sockets() -> dict:
    result = subprocess.run([sys.executable, "-c", LIST_SOCKETS], capture_output=True, text=True, timeout=180,
                            env={**{k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"},
                                 "RAY_USAGE_STATS_ENABLED": "0"})
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_ray_started_by_hookseg_listens_somewhere_and_starts_no_dashboard_server(ray_sockets):
    assert ray_sockets["listening"], "no listening socket found: the listing itself is broken"
    assert {"gcs_server", "raylet"} <= set(ray_sockets["processes"]), ray_sockets["processes"]
    dashboards = [n for n in ray_sockets["processes"] if n.startswith("ray::Dashboard") and "Agent" not in n]
    assert not dashboards, dashboards


def test_ray_started_by_hookseg_listens_on_loopback_only(ray_sockets):
    exposed = [s for s in ray_sockets["listening"] if not s[0].startswith(LOOPBACK)]
    assert not exposed, exposed

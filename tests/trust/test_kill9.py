"""kill -9 of `cartflow serve` during a write burst, clients retrying with Idempotency-Key:
no acknowledged write lost, none recorded twice (the small version of
``benchmarks/serve_kill9.py``, which runs ten kills on both databases)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clinic.conftest import DB

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

SEED = (
    "import django; django.setup()\n"
    "from tests.clinic.api_network import build_network\n"
    "print(build_network().tokens['courier'])\n"
)


@pytest.mark.skipif(DB != "sqlite", reason="once, on SQLite: the benchmark runs both databases")
def test_a_server_killed_mid_burst_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from serve_kill9 import failures, run
        from serving import Site
    finally:
        sys.path.remove(str(BENCHMARKS))
    env = {
        **os.environ,
        "CARTFLOW_DATA": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "cartflow.settings",
    }
    env.pop("DATABASE_URL", None)
    env.pop("CARTFLOW_TESTING", None)  # the server as it runs in production
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-m", "cartflow.cli", "manage", "migrate", "-v", "0"],
        env=env,
        cwd=root,
        check=True,
    )
    seeded = subprocess.run(
        [sys.executable, "-c", SEED], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    site = Site("sqlite", env, token=seeded.stdout.split()[-1])
    result = run(site, clients=2, kills=1, workers=1, threads=2)
    assert failures(result) == [], result
    assert result["acknowledged"] > 0 and result["lost"] == 0 and result["duplicated"] == 0

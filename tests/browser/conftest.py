"""The browser tests: a real server (``cartflow serve``) on a free port with a temporary data
folder, and Chromium (Debian's package) driven by Playwright.

``make test`` and ``.ci/run`` install Chromium where it is missing
(``scripts/ensure-chromium.sh``) and set ``CARTFLOW_REQUIRE_BROWSER=1``, so there a missing
browser fails; a plain ``pytest`` without Chromium skips these tests, saying why.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CARTFLOW_CHROMIUM", "/usr/bin/chromium")
# Tests never rewrite tracked files: the journey's screenshots go to a scratch folder unless
# `make screenshots` asks for the docs' own (CARTFLOW_SCREENSHOTS=docs/screenshots).
SCREENSHOTS = Path(
    os.environ.get("CARTFLOW_SCREENSHOTS") or tempfile.mkdtemp(prefix="cartflow-screenshots-")
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    data: Path
    env: dict[str, str]
    now: datetime

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cartflow.cli", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    data = Path(tempfile.mkdtemp(prefix="cartflow-browser-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        CARTFLOW_DATA=str(data),
        CARTFLOW_TESTING="1",
        CARTFLOW_SECRET_KEY="browser-test-only",
        DJANGO_SETTINGS_MODULE="cartflow.settings",
        PYTHONPATH=str(ROOT),
    )
    now = datetime.now(UTC)
    setup = subprocess.run(
        [sys.executable, "-m", "tests.browser.setup_network", now.isoformat(), "--demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert setup.returncode == 0, setup.stderr[-3000:]
    port = _free_port()
    log = open(data / "server.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "cartflow.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "the server did not start: " + (data / "server.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.2)
        yield Server(f"http://127.0.0.1:{port}", data, env, now)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = (
            f"Chromium is not installed at {CHROMIUM}: run scripts/ensure-chromium.sh "
            "(as root: apt-get install -y chromium)"
        )
        if os.environ.get("CARTFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            chromium_sandbox=False,  # a root container has no user namespaces for the sandbox
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            browser.close()

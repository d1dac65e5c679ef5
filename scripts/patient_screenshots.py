"""The patient view's screenshots in docs/screenshots, at phone width, in both languages.

Run by `make screenshots` (never by the tests: tests do not rewrite tracked files). It seeds
the synthetic demo network in a temporary data folder, serves it, and signs in as the demo's
patient logins (family-en, family-zh) in Debian's Chromium.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CARTFLOW_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
SHOTS = (
    # user name, password, page, file
    ("family-en", "cells-en-demo", "/my/", "patient-en.png"),
    ("family-zh", "cells-zh-demo", "/my/", "patient-zh.png"),
    ("family-zh", "cells-zh-demo", "/my/card/", "patient-card-zh.png"),
)


def main() -> int:
    data = tempfile.mkdtemp(prefix="cartflow-shots-")
    env = {**os.environ, "CARTFLOW_DATA": data, "CARTFLOW_SECRET_KEY": "screenshots-only"}
    env.pop("DATABASE_URL", None)
    cli = [sys.executable, "-m", "cartflow.cli"]
    subprocess.run([*cli, "demo", "--no-serve"], cwd=ROOT, env=env, check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([*cli, "serve", "--port", str(port)], cwd=ROOT, env=env)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            for username, password, path, name in SHOTS:
                context = browser.new_context(viewport=PHONE, device_scale_factor=2)
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{port}/login/")
                page.fill("#id_username", username)
                page.fill("#id_password", password)
                with page.expect_navigation():
                    page.click("main button[type=submit]")
                page.goto(f"http://127.0.0.1:{port}{path}")
                page.screenshot(path=str(OUT / name), full_page=True)
                context.close()
                print(f"wrote docs/screenshots/{name}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())

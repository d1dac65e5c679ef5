"""kill -9 of `cartflow serve` under write load, clients retrying: nothing lost, nothing twice.

For each database (SQLite; PostgreSQL in ``cartflow_bench_trust``, created afresh and
dropped after) the demo network is seeded and `cartflow serve` started in a process group of
its own. ``--clients`` client threads append shipper temperatures through the API, each write
with its own ``Idempotency-Key`` and a body that names that key; a client sends each write
until it is acknowledged (201), sending the same key and body again after a connection
error, a 5xx or a 409 that asks to retry. Meanwhile the server is killed with SIGKILL (master
and workers at once) after a random 0.5 to 2 s of load, and started again, ``--kills`` times.

Afterwards it reads the database itself: every acknowledged write must be there exactly once
(lost: acknowledged and absent; duplicated: any key recorded twice), and `cartflow audit
verify` must exit 0. It exits 1 when a check fails.

Run: ``.venv/bin/python benchmarks/serve_kill9.py [--kills 10] [--only sqlite|postgres]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import (
    TEMPERATURE,
    Client,
    Server,
    Site,
    _postgres,
    drop,
    prepare,
    writable_cases,
)

MARK = "kill9 "
RETRY = {409, 500, 502, 503, 504}


def recorded_keys(site: Site) -> Counter[str]:
    """How many events the database holds for each write's key (read from the bytes)."""
    query = "SELECT body FROM clinic_event WHERE type = 'product.temperature_recorded'"
    if site.vendor == "sqlite":
        with sqlite3.connect(Path(site.env["CARTFLOW_DATA"]) / "cartflow.sqlite3") as db:
            bodies = [row[0] for row in db.execute(query)]
    else:
        bodies = [row[0] for row in _postgres(query, site.database)]
    found: Counter[str] = Counter()
    for body in bodies:
        location = json.loads(bytes(body)).get("data", {}).get("location", "")
        if location.startswith(MARK):
            found[location[len(MARK) :]] += 1
    return found


def run(site: Site, clients: int, kills: int, workers: int, threads: int) -> dict[str, Any]:
    server = Server(site, workers, threads)
    server.start()
    cois = writable_cases(site, server.port)
    stop = threading.Event()
    acknowledged: dict[str, int] = {}
    sent: set[str] = set()
    retries = Counter[str]()
    refused: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        http = Client(server.port, token=site.token, timeout=30)
        n = 0
        while not stop.is_set():
            n += 1
            key = f"c{index}-{n}"
            path = TEMPERATURE.format(coi=cois[(index + n) % len(cois)])
            payload = {"celsius": -150, "location": MARK + key}
            with lock:
                sent.add(key)
            while True:  # the same key and body until acknowledged, even after stop is set
                try:
                    status, body = http.post_json(path, payload, key=key)
                except OSError:
                    status, body = 0, b""
                if status == 201:
                    with lock:
                        acknowledged[key] = acknowledged.get(key, 0) + 1
                    break
                if status == 0 or status in RETRY:
                    with lock:
                        retries["connection" if status == 0 else str(status)] += 1
                    time.sleep(0.05)
                    continue
                with lock:
                    refused.append(f"{status} {body[:160]!r}")
                break
        http.close()

    pool = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in pool:
        thread.start()
    downtime: list[float] = []
    try:
        for _ in range(kills):
            time.sleep(random.uniform(0.5, 2.0))
            server.kill9()
            down = time.perf_counter()
            server.start()
            downtime.append(time.perf_counter() - down)
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in pool:
            thread.join(timeout=120)
        server.stop()
    found = recorded_keys(site)
    lost = sorted(key for key in acknowledged if found[key] == 0)
    duplicated = sorted(key for key, count in found.items() if count > 1)
    verify = subprocess.run(
        [sys.executable, "-m", "cartflow.cli", "audit", "verify"],
        env=site.env,
        capture_output=True,
        text=True,
    )
    return {
        "database": site.vendor,
        "kills": kills,
        "clients": clients,
        "writes_sent": len(sent),
        "acknowledged": len(acknowledged),
        "recorded": sum(1 for key in found if key in sent),
        "unacknowledged_but_recorded": sum(1 for k in found if k in sent and k not in acknowledged),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "refused": refused[:5],
        "retries": dict(retries),
        "restart_s_median": round(sorted(downtime)[len(downtime) // 2], 1) if downtime else None,
        "verify_exit": verify.returncode,
        "verify": verify.stdout.strip().splitlines()[-1:] if verify.stdout else [],
    }


def failures(result: dict[str, Any]) -> list[str]:
    database = result["database"]
    failed = []
    if result["lost"]:
        failed.append(f"{database}: {result['lost']} acknowledged writes lost")
    if result["duplicated"]:
        failed.append(f"{database}: {result['duplicated']} writes recorded twice")
    if result["refused"]:
        failed.append(f"{database}: writes refused: {result['refused']}")
    if result["verify_exit"] != 0:
        failed.append(f"{database}: audit verify exited {result['verify_exit']}")
    if not result["acknowledged"]:
        failed.append(f"{database}: nothing was acknowledged")
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    results = []
    for vendor in ("sqlite", "postgres"):
        if args.only not in (None, vendor):
            continue
        site = prepare(vendor)
        try:
            results.append(run(site, args.clients, args.kills, args.workers, args.threads))
        finally:
            drop(site)
    failed: list[str] = []
    for r in results:
        print(
            f"{r['database']}: {r['kills']} kill -9, {r['clients']} clients: "
            f"{r['writes_sent']} writes sent, {r['acknowledged']} acknowledged, "
            f"{r['recorded']} recorded ({r['unacknowledged_but_recorded']} recorded before "
            f"their answer was lost); lost {r['lost']}, duplicated {r['duplicated']}; "
            f"retries {r['retries']}; restart {r['restart_s_median']} s; "
            f"audit verify exit {r['verify_exit']}"
        )
        failed.extend(failures(r))
    print(json.dumps(results))
    for line in failed:
        print("FAILED:", line)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

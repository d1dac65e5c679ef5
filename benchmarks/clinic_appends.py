"""Event appends per second through the service layer, beside a raw single-row INSERT.

For each database (SQLite in WAL mode in a temporary data folder; PostgreSQL in a fresh
database on ``DATABASE_URL``'s server, default ``postgres://postgres@127.0.0.1:5432/postgres``)
this measures, in the same process and through the same Django connection and settings:

- ``service``: ``cartflow.clinic.services.append`` — lock, decide, hash chain, events, projection,
  ledger entry and audit row in one transaction — spread round-robin over ``--cases`` cases;
- ``raw``: one INSERT of the same stored bytes into a table of the same shape as the event
  table (same columns, same unique indexes), one transaction per row;

and prints both rates and their ratio, then the number of queries (and the time) to list the
board of ``--board`` active cases. The domain's ``decide`` here is a one-line note-taking
machine, so the figure is the store's own cost; the journey's guards come on top.

Run: ``.venv/bin/python benchmarks/clinic_appends.py [--appends 2000] [--only sqlite]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


class NoteMachine:
    """The smallest journey: every command adds a note; the state counts them."""

    def start(self, coi: str) -> dict[str, Any]:
        return {"coi": coi, "step": "open", "notes": 0}

    def decide(self, state: Any, command: Any, now: datetime) -> Sequence[Any]:
        from cartflow.domain.events import Event

        return [Event("note.added", now, "", {"text": command})]

    def apply(self, state: Any, event: Any) -> Any:
        return {**state, "step": "noted", "notes": state["notes"] + 1}

    def dump(self, state: Any) -> dict[str, Any]:
        return dict(state)

    def load(self, data: Mapping[str, Any]) -> Any:
        return dict(data)

    def step(self, state: Any) -> str:
        return str(state["step"])

    def active(self, state: Any) -> bool:
        return True


RAW_TABLE = "bench_raw_event"
RAW_DDL = {
    "sqlite": [
        f"CREATE TABLE {RAW_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, case_id BIGINT NOT NULL, "
        "seq INTEGER NOT NULL, type VARCHAR(64) NOT NULL, schema_version SMALLINT NOT NULL, "
        "occurred_at DATETIME NOT NULL, recorded_at DATETIME NOT NULL, actor VARCHAR(150) "
        "NOT NULL, site VARCHAR(64) NOT NULL, body BLOB NOT NULL, hash VARCHAR(64) NOT NULL "
        "UNIQUE, prev_hash VARCHAR(64) NOT NULL)",
    ],
    "postgresql": [
        f"CREATE TABLE {RAW_TABLE} (id BIGSERIAL PRIMARY KEY, case_id BIGINT NOT NULL, "
        "seq INTEGER NOT NULL, type VARCHAR(64) NOT NULL, schema_version SMALLINT NOT NULL, "
        "occurred_at TIMESTAMPTZ NOT NULL, recorded_at TIMESTAMPTZ NOT NULL, actor VARCHAR(150) "
        "NOT NULL, site VARCHAR(64) NOT NULL, body BYTEA NOT NULL, hash VARCHAR(64) NOT NULL "
        "UNIQUE, prev_hash VARCHAR(64) NOT NULL)",
    ],
}
RAW_INDEXES = [
    f"CREATE UNIQUE INDEX bench_raw_case_seq ON {RAW_TABLE} (case_id, seq)",
    f"CREATE UNIQUE INDEX bench_raw_case_prev ON {RAW_TABLE} (case_id, prev_hash)",
]


def measure(vendor: str, appends: int, cases: int, board: int, blocks: int = 20) -> dict[str, Any]:
    """In a process of its own (Django's settings are per process)."""
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "cartflow.settings"
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from cartflow.clinic import services
    from cartflow.clinic.models import Event
    from cartflow.clinic.queries import active_board
    from cartflow.clinic.services import AppendRequest
    from cartflow.clinic.services.store import _dt

    call_command("migrate", verbosity=0, interactive=False)
    machine = NoteMachine()
    admin = get_user_model().objects.create_user("bench-admin", password="x")
    site = services.create_site(
        "bench-center", "Bench Center", "treatment_center", facility_code="B1234", acting_user=admin
    )
    patient = services.register_patient(
        site,
        record_number="BENCH-1",
        given_name="Patient-BENCH",
        family_name="Test",
        birth_date=date(1970, 1, 1),
        acting_user=admin,
    )
    opened = [
        services.open_case(patient, "opened", acting_user=admin, machine=machine).case
        for _ in range(cases)
    ]
    for case in opened[: min(50, cases)]:  # warm up caches and connections
        services.append(
            AppendRequest(case=case, command="warm-up", acting_user=admin, machine=machine)
        )

    with connection.cursor() as cursor:
        for statement in [*RAW_DDL[connection.vendor], *RAW_INDEXES]:
            cursor.execute(statement)
    insert = (
        f"INSERT INTO {RAW_TABLE} (case_id, seq, type, schema_version, occurred_at, recorded_at, "
        "actor, site, body, hash, prev_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    # Interleaved blocks: on a shared machine the load changes by the second, and both
    # figures of a ratio should see the same load.
    service_s = raw_s = 0.0
    done = raw_done = 0
    block = max(1, appends // blocks)
    while done < appends:
        last_id = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
        started = time.perf_counter()
        for _ in range(min(block, appends - done)):
            services.append(
                AppendRequest(
                    case=opened[done % cases], command="a note", acting_user=admin, machine=machine
                )
            )
            done += 1
        service_s += time.perf_counter() - started
        rows = list(
            Event.objects.filter(id__gt=last_id)
            .order_by("id")
            .values_list(
                "case_id",
                "seq",
                "type",
                "schema_version",
                "occurred_at",
                "recorded_at",
                "actor",
                "site",
                "body",
                "hash",
                "prev_hash",
            )
        )
        params = [
            [r[0], r[1], r[2], r[3], _dt(r[4]), _dt(r[5]), r[6], r[7], bytes(r[8]), r[9], r[10]]
            for r in rows
        ]
        started = time.perf_counter()
        for values in params:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(insert, values)
        raw_s += time.perf_counter() - started
        raw_done += len(params)

    for _ in range(max(0, board - cases)):
        services.open_case(patient, "opened", acting_user=admin, machine=machine)
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        listed = active_board()
        board_s = time.perf_counter() - started
    service_rate, raw_rate = appends / service_s, raw_done / raw_s
    return {
        "database": vendor,
        "appends": appends,
        "service_appends_per_s": round(service_rate, 1),
        "raw_inserts_per_s": round(raw_rate, 1),
        "ratio": round(service_rate / raw_rate, 3),
        "board_cases": len(listed),
        "board_queries": len(captured),
        "board_ms": round(board_s * 1000, 1),
        "verified": services.verify_ledger().ok,
    }


def _child(vendor: str, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "CARTFLOW_DATA": tempfile.mkdtemp(prefix="cartflow-bench-")}
    database = ""
    if vendor == "sqlite":
        env.pop("DATABASE_URL", None)
    else:
        import psycopg

        server_url = os.environ.get("DATABASE_URL", DEFAULT_POSTGRES)
        database = f"cartflow_bench_{os.getpid()}"
        with psycopg.connect(server_url, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{database}"')
            server.execute(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = server_url.rsplit("/", 1)[0] + "/" + database
    try:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                vendor,
                "--appends",
                str(args.appends),
                "--cases",
                str(args.cases),
                "--board",
                str(args.board),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stderr)
        raise
    finally:
        if database:
            import psycopg

            with psycopg.connect(server_url, autocommit=True) as server:
                server.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--cases", type=int, default=100, help="cases the appends go round")
    parser.add_argument("--board", type=int, default=2000, help="active cases on the board")
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.appends, args.cases, args.board)))
        return
    results = [_child(v, args) for v in ("sqlite", "postgres") if args.only in (None, v)]
    print(
        f"{'database':<10} {'service/s':>10} {'raw/s':>10} {'ratio':>6} "
        f"{'board cases':>12} {'queries':>8} {'board ms':>9}"
    )
    for r in results:
        print(
            f"{r['database']:<10} {r['service_appends_per_s']:>10} {r['raw_inserts_per_s']:>10} "
            f"{r['ratio']:>6} {r['board_cases']:>12} {r['board_queries']:>8} "
            f"{r['board_ms']:>9}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()

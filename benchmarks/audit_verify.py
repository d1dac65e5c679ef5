"""``cartflow audit verify`` over a network of at least 100,000 events, beside SHA-256.

For each database (SQLite in WAL mode in a temporary data folder; PostgreSQL in the database
``cartflow_bench_trust`` on ``DATABASE_URL``'s server, default 127.0.0.1:5432, dropped and
created afresh) this builds a network through the real write path (``services.append``:
lock, replay, decide, chain, projection, ledger, chained audit row), ``--events`` events in
all, ``--per-append`` events per append, ``--appends-per-case`` appends per case; a few
patients are registered too, so the identity and audit checks have rows to read. Then, in
the same process and interleaved over ``--rounds`` rounds, it times:

- ``sha256``: ``hashlib.sha256(body).hexdigest()`` over every event's stored bytes, already
  in memory, in one process (the baseline the issue names; its pages touched first, untimed,
  so that copy-on-write faults left by the verification's forked workers are not charged
  to it);
- ``sha256_streamed``: the same, reading the bytes from the database with the same streaming
  cursor (for information: the part of verification that is only reading);
- ``verify``: ``verify_everything(replay=False)``: every check ``cartflow audit verify``
  performs except the replay (every case's chain and the ledger, streamed once; the events'
  generated columns checked against the table's definition, or each row's columns against
  its bytes when it differs; the audit trail's chain; identities; signatures; registers),
  its parts in one process per core (``services/forked_parts.py``); on PostgreSQL the events
  and the ledger through the database's screen (``services/chain_screen.py``), on SQLite
  each row hashed in Python;
- ``verify_one_process``: the same in this process alone (``workers=1``);
- ``verify_other``: the same the other way (row by row on PostgreSQL, screened on SQLite),
  for comparison;
- ``verify_replay``: ``verify_everything(machine)``: the same with every case folded again
  and compared with its cached state; the replay's own cost is the difference.

It prints events per second for each (the median round), the ratio verify / sha256, and the
process's peak resident memory (the check streams: it never holds the log in memory).

Run: ``.venv/bin/python benchmarks/audit_verify.py [--events 100000] [--only sqlite|postgres]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "cartflow_bench_trust"


class BulkNoteMachine:
    """A journey of notes: each command adds ``per_append`` events shaped like real ones."""

    def __init__(self, per_append: int) -> None:
        self.per_append = per_append

    def start(self, coi: str) -> dict[str, Any]:
        return {"coi": coi, "step": "open", "notes": 0, "last": ""}

    def decide(self, state: Any, command: Any, now: datetime) -> Sequence[Any]:
        from cartflow.domain.events import Event

        return [
            Event(
                "note.added",
                now,
                "",
                {
                    "text": f"{command} {n}: temperature within range, label scanned, "
                    "chain of identity confirmed at hand-off",
                    "measured": {"celsius": -150 - n, "minutes": 30 + n},
                    "scans": ["W9011 26 000001 X", "W9011 26 000002 Y"],
                },
                site="bench-center",
            )
            for n in range(self.per_append)
        ]

    def apply(self, state: Any, event: Any) -> Any:
        return {**state, "step": "noted", "notes": state["notes"] + 1, "last": event.type}

    def dump(self, state: Any) -> dict[str, Any]:
        return dict(state)

    def load(self, data: Mapping[str, Any]) -> Any:
        return dict(data)

    def step(self, state: Any) -> str:
        return str(state["step"])

    def active(self, state: Any) -> bool:
        return True


def build(events: int, per_append: int, appends_per_case: int) -> tuple[Any, float]:
    """The network, through the real write path; the machine and the seconds it took."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from cartflow.clinic import services

    machine = BulkNoteMachine(per_append)
    admin = get_user_model().objects.create_user("bench-admin", password="x")
    site = services.create_site(
        "bench-center", "Bench Center", "treatment_center", facility_code="B1234", acting_user=admin
    )
    patients = [
        services.register_patient(
            site,
            record_number=f"BENCH-{n}",
            given_name=f"Patient-{n}",
            family_name="Synthetic",
            birth_date=date(1970, 1, 1 + n),
            acting_user=admin,
        )
        for n in range(10)
    ]
    appends = -(-events // per_append)
    cases = -(-appends // appends_per_case)
    started = time.perf_counter()
    done = 0
    for c in range(cases):
        # One transaction per case (its appends are savepoints): the build is not what is
        # measured, and a commit per append would only make it slower.
        with transaction.atomic():
            case = services.open_case(
                patients[c % len(patients)], "opened", acting_user=admin, machine=machine
            ).case
            for _ in range(min(appends_per_case, appends - done)):
                services.append(case, "a note", acting_user=admin, machine=machine)
                done += 1
        if done >= appends:
            break
    return machine, time.perf_counter() - started


def measure(vendor: str, args: argparse.Namespace) -> dict[str, Any]:
    """In a process of its own (Django's settings are per process)."""
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "cartflow.settings"
    django.setup()
    import hashlib

    from django.core.management import call_command
    from django.db import connection

    from cartflow.clinic.models import Event
    from cartflow.clinic.services.audit import _stream, snapshot
    from cartflow.clinic.services.forked_parts import default_workers
    from cartflow.clinic.services.verification import verify_everything

    call_command("migrate", verbosity=0, interactive=False)
    machine, build_s = build(args.events, args.per_append, args.appends_per_case)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    bodies = [bytes(b) for b in Event.objects.values_list("body", flat=True)]
    stored = sum(len(b) for b in bodies)
    events = len(bodies)
    table = Event._meta.db_table

    def sha256_memory() -> None:
        # Touched first, untimed: after a verification forked its workers, the parent's
        # pages are shared copy-on-write, and the first write to each (Python's reference
        # counts) would be charged to the baseline, flattering the ratio.
        for _ in bodies:
            pass
        sha = hashlib.sha256
        started = time.perf_counter()
        for body in bodies:
            sha(body).hexdigest()
        timed.setdefault("sha256", []).append(time.perf_counter() - started)

    def sha256_streamed() -> None:
        sha = hashlib.sha256
        with snapshot():  # read as verification reads
            for (body,) in _stream(f"SELECT body FROM {table} ORDER BY case_id, seq"):
                sha(bytes(body)).hexdigest()

    reports: dict[str, Any] = {}

    def verify() -> None:
        reports["verify"] = verify_everything(replay=False)

    def verify_one_process() -> None:
        reports["verify_one_process"] = verify_everything(replay=False, workers=1)

    def verify_other() -> None:
        # the other way of the two (row by row on PostgreSQL, screened on SQLite)
        screened = connection.vendor != "postgresql"
        reports["verify_other"] = verify_everything(replay=False, screened=screened)

    def verify_replay() -> None:
        reports["verify_replay"] = verify_everything(machine)

    timed: dict[str, list[float]] = {}
    runs = {
        "sha256": sha256_memory,
        "sha256_streamed": sha256_streamed,
        "verify": verify,
        "verify_one_process": verify_one_process,
        "verify_other": verify_other,
        "verify_replay": verify_replay,
    }
    for _ in range(args.rounds):  # interleaved: each round sees the same load on all of them
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            if name != "sha256":  # which times only its own loop
                timed.setdefault(name, []).append(time.perf_counter() - started)
    rates = {name: events / statistics.median(seconds) for name, seconds in timed.items()}
    verify_s = statistics.median(timed["verify"])
    replay_s = statistics.median(timed["verify_replay"]) - verify_s
    for name in ("verify", "verify_one_process", "verify_other", "verify_replay"):
        if not reports[name].ok:
            raise SystemExit(f"{vendor}: the built network does not verify: {reports[name]}")
    return {
        "database": vendor,
        "events": events,
        "cases": reports["verify"].checked["cases"],
        "ledger_entries": reports["verify"].checked["ledger_entries"],
        "audit_rows": reports["verify"].checked["audit_rows"],
        "stored_mb": round(stored / 1e6, 1),
        "build_s": round(build_s, 1),
        "rounds": args.rounds,
        "sha256_per_s": round(rates["sha256"]),
        "sha256_streamed_per_s": round(rates["sha256_streamed"]),
        "workers": default_workers(),
        "verify_per_s": round(rates["verify"]),
        "verify_one_process_per_s": round(rates["verify_one_process"]),
        "verify_screened": vendor == "postgres",
        "verify_other_way_per_s": round(rates["verify_other"]),
        "verify_with_replay_per_s": round(rates["verify_replay"]),
        "replay_alone_per_s": round(events / replay_s) if replay_s > 0 else None,
        "ratio_verify_to_sha256": round(rates["verify"] / rates["sha256"], 3),
        "ratio_one_process_to_sha256": round(rates["verify_one_process"] / rates["sha256"], 3),
        "ratio_verify_to_sha256_streamed": round(rates["verify"] / rates["sha256_streamed"], 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _child(vendor: str, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "CARTFLOW_DATA": tempfile.mkdtemp(prefix="cartflow-bench-")}
    server_url = os.environ.get("DATABASE_URL", DEFAULT_POSTGRES)
    if vendor == "sqlite":
        env.pop("DATABASE_URL", None)
    else:
        import psycopg

        with psycopg.connect(server_url, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
            server.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
        env["DATABASE_URL"] = server_url.rsplit("/", 1)[0] + "/" + BENCH_DATABASE
    command = [sys.executable, __file__, "--child", vendor]
    for name in ("events", "per_append", "appends_per_case", "rounds"):
        command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stderr)
        raise
    finally:
        if vendor != "sqlite":
            import psycopg

            with psycopg.connect(server_url, autocommit=True) as server:
                server.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--per-append", type=int, default=5, help="events per append")
    parser.add_argument("--appends-per-case", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args)))
        return
    results = [_child(v, args) for v in ("sqlite", "postgres") if args.only in (None, v)]
    for r in results:
        print(
            f"{r['database']}: {r['events']} events in {r['cases']} cases, "
            f"{r['ledger_entries']} ledger entries, {r['audit_rows']} audit rows "
            f"({r['stored_mb']} MB of event bytes; built in {r['build_s']} s)\n"
            f"  sha256 in memory       {r['sha256_per_s']:>10} events/s\n"
            f"  sha256 streamed        {r['sha256_streamed_per_s']:>10} events/s\n"
            f"  verify (no replay)     {r['verify_per_s']:>10} events/s"
            f"   ratio to sha256 {r['ratio_verify_to_sha256']}"
            f" (to streamed sha256 {r['ratio_verify_to_sha256_streamed']};"
            f" {r['workers']} processes)\n"
            f"  verify, one process    {r['verify_one_process_per_s']:>10} events/s"
            f"   ratio to sha256 {r['ratio_one_process_to_sha256']}\n"
            f"  verify, the other way  {r['verify_other_way_per_s']:>10} events/s"
            f"   ({'row by row' if r['verify_screened'] else 'screened'})\n"
            f"  verify with replay     {r['verify_with_replay_per_s']:>10} events/s\n"
            f"  replay alone           {r['replay_alone_per_s']:>10} events/s\n"
            f"  peak memory            {r['peak_rss_mb']:>10} MB"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()

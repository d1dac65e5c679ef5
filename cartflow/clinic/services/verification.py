"""``cartflow audit verify``: everything a page or the API shows, checked against hashed bytes.

:func:`verify_everything` goes beyond the chains of :mod:`cartflow.clinic.services.audit`:

- each event's columns that are shown (type, actor, site, clinical and recording time) must
  equal its hashed bytes;
- the audit trail is a chain of its own, ending where the ledger head says;
- each patient's identity (record number, names, birth date, sex) must hash to what its
  chained audit row recorded;
- each signature's signer and meaning must equal its own event's bytes, and sign the event it
  names;
- each case, folded again through ``apply``, must equal its cached projection;
- each site's register of signed protocol values is a chain of its own, whose columns shown
  equal its hashed bytes and whose end is where the audit trail last recorded it.

Every finding names its kind (:data:`KINDS`), where it is, and what was seen, never a name
or birth date. Nothing here writes: it runs on a read-only copy of the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from cartflow.clinic.models import (
    AuditRow,
    CaseProjection,
    LedgerHead,
    Patient,
    Signature,
    TherapyCase,
)
from cartflow.clinic.sealing import audit_bytes, audit_hash_quick, patient_identity_hash
from cartflow.clinic.services.append import SIGNATURE_EVENT
from cartflow.clinic.services.audit import (
    _stream,
    snapshot,
    verify_ledger,
)
from cartflow.clinic.services.chain_screen import iso_text
from cartflow.clinic.services.entry_head import EntryHead
from cartflow.clinic.services.machine import CaseMachine, fold, journey_machine
from cartflow.domain.events import Event as DomainEvent
from cartflow.domain.hashchain import GENESIS, PREV_KEY

KINDS = {
    "event-chain": "a case's chain of events is broken (edited, removed, reordered, cut, moved)",
    "ledger-chain": "the network ledger is broken (an entry edited, removed or cut)",
    "event-column": "a shown column of an event differs from its hashed bytes",
    "audit-chain": "the audit trail is broken (a row edited, removed, reordered or cut)",
    "identity": "a patient's identity differs from the hash its audit row recorded",
    "signature": "a signature's signer, meaning or signed event differs from its chain",
    "cache": "a case's cached state differs from its events folded again",
    "register-chain": "a site's register of signed protocol values is broken (an entry edited, "
    "removed, reordered or cut, or a column shown differs from its hashed bytes)",
}
"""Every kind of break verification names; the CLI's help lists them."""


@dataclass(frozen=True)
class Finding:
    kind: str
    where: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "detail": self.detail}


@dataclass
class TrustReport:
    """What was checked, and every finding; ``ok`` when there is none."""

    checked: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    network: dict[str, Any] = field(default_factory=dict)
    """The chains' own report (``verify_ledger``), kept in the same shape as before."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, kind: str, where: str, detail: str) -> None:
        self.findings.append(Finding(kind, where, detail))

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.network,
            "ok": self.ok,
            "checked": dict(self.checked),
            "kinds": sorted({f.kind for f in self.findings}),
            "findings": [f.to_dict() for f in self.findings],
        }


def text_time(text: str) -> datetime:
    """The aware time of a time's ISO text (UTC when it names no offset)."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _same_time(column: Any, text: Any) -> bool:
    """A time column, read as text (``chain_screen.iso_text``), is the moment ``text`` names."""
    if not isinstance(column, str) or not isinstance(text, str):
        return False
    try:
        return text_time(column) == text_time(text)
    except ValueError:
        return False


def event_column_differences(row: dict[str, Any], entry: dict[str, Any]) -> list[str]:
    """The shown columns of an event row that differ from its hashed ``entry``."""
    differ = []
    for name in ("type", "actor", "site"):
        if row[name] != entry.get(name, "" if name == "site" else None):
            differ.append(name)
    if row["schema_version"] != entry.get("schema_version", 1):
        differ.append("schema_version")
    if not _same_time(row["occurred_at"], entry.get("occurred_at")):
        differ.append("occurred_at")
    # Signature events written before their bytes carried a recording time were recorded at
    # the moment they name as their clinical time.
    recorded = entry.get("recorded_at") or entry.get("occurred_at")
    if not _same_time(row["recorded_at"], recorded):
        differ.append("recorded_at")
    return differ


class _EventChecks:
    """The per-event checks verification adds to the chains' streamed pass.

    Each event's shown columns against its bytes, and (with a machine) the case folded again,
    compared with its cached state when the case's chain turns out intact. One case's state
    in memory at a time.
    """

    def __init__(self, report: TrustReport, machine: CaseMachine | None) -> None:
        self.report = report
        self.machine = machine
        self.projections: dict[str, tuple[str, Any, int, str, bool]] = {}
        if machine is not None:
            self.projections = {
                coi: (step, state, version, head, active)
                for coi, step, state, version, head, active in (
                    CaseProjection.objects.values_list(
                        "case__coi", "step", "state", "version", "head", "active"
                    ).iterator(chunk_size=5000)
                )
            }
        self.coi = ""
        self.state: Any = None
        self.last_body = b""
        self.fold_error: Exception | None = None
        self.events = 0
        self.cases = 0

    def event(self, coi: str, row: tuple[Any, ...], entry: EntryHead) -> None:
        if coi != self.coi:
            self.coi, self.fold_error = coi, None
            self.state = self.machine.start(coi) if self.machine is not None else None
        differ = _column_differences(row, entry)
        if differ:
            self.report.add(
                "event-column",
                f"case {coi} event {row[1]}",
                f"{', '.join(differ)} shown differ from the hashed bytes",
            )
        if self.machine is not None and self.fold_error is None:
            try:
                body = json.loads(row[2])
                body.pop(PREV_KEY, None)
                self.state = fold(self.machine, self.state, DomainEvent.from_body(body))
            except Exception as exc:
                # a tampered body; raised at the case's end if its chain holds after all
                self.fold_error = exc
        self.last_body = row[2]

    def case(self, coi: str, count: int, intact: bool) -> None:
        self.cases += 1
        self.events += count
        if self.machine is None or not intact or coi != self.coi:
            # A broken chain is named already; folding bytes that were tampered with would
            # only add noise (or fail on a body that is not an event at all).
            return
        if self.fold_error is not None:
            raise self.fold_error
        _compare_cache(
            self.report,
            coi,
            self.machine,
            self.state,
            count,
            bytes(self.last_body),
            self.projections.get(coi),
        )


def _column_differences(row: tuple[Any, ...], entry: EntryHead) -> list[str]:
    """:func:`event_column_differences` for a streamed row (see ``EVENT_SCAN_COLUMNS``)."""
    _, _, _, _, _, type_, actor, site, occurred, recorded, schema = row
    recorded_text = entry.recorded_at or entry.occurred_at
    # The times come as the text isoformat() writes (``chain_screen.iso_text``): equal text
    # is the common case; any other spelling of the same moment is compared as a time.
    if (
        occurred == entry.occurred_at
        and recorded == recorded_text
        and type_ == entry.type
        and actor == entry.actor
        and site == entry.site
        and schema == entry.schema_version
    ):
        return []
    names = ("type", "actor", "site", "occurred_at", "recorded_at", "schema_version")
    fields = {name: getattr(entry, name) for name in names}
    return event_column_differences(dict(zip(names, row[5:], strict=True)), fields)


def _check_events(report: TrustReport, machine: CaseMachine | None, screened: bool) -> None:
    """The chains, the ledger and every event's columns (and replay) in one streamed pass."""
    checks = _EventChecks(report, machine)
    network = verify_ledger(on_event=checks.event, on_case=checks.case, screened=screened)
    if network.ledger_broken_at is not None:
        report.add(
            "ledger-chain", f"ledger entry {network.ledger_broken_at}", network.ledger_reason
        )
    for case in network.broken_cases:
        report.add("event-chain", f"case {case.coi} event {case.broken_at}", case.reason)
    report.checked["ledger_entries"] = network.ledger_entries
    report.network = network.to_dict()
    report.checked["events"] = checks.events
    report.checked["cases"] = checks.cases


def _compare_cache(
    report: TrustReport,
    coi: str,
    machine: CaseMachine,
    state: Any,
    count: int,
    last_body: bytes,
    cached: tuple[str, Any, int, str, bool] | None,
) -> None:
    head = hashlib.sha256(last_body).hexdigest()
    folded = (
        machine.step(state),
        json.loads(json.dumps(machine.dump(state), default=str)),
        count,
        head,
        machine.active(state),
    )
    if cached is None:
        report.add("cache", f"case {coi}", "the case has events but no cached state")
        return
    cached_state = cached[1] if not isinstance(cached[1], str) else json.loads(cached[1])
    names = ("step", "state", "version", "head", "active")
    differ = [
        name
        for name, mine, theirs in zip(
            names, folded, (cached[0], cached_state, *cached[2:]), strict=True
        )
        if mine != theirs
    ]
    if differ:
        report.add(
            "cache",
            f"case {coi}",
            f"the cached {', '.join(differ)} differ from the events folded again "
            "(`cartflow audit rebuild` repairs it)",
        )


AUDIT_COLUMNS = (
    "seq",
    "at",
    "user_id",
    "username",
    "operation",
    "case_coi",
    "request_id",
    "ip",
    "user_agent",
    "summary",
    "hash",
    "prev_hash",
)


def _audit_sql() -> str:
    # Streamed like the events, without the ORM's per-row model machinery; the time as the
    # text ``isoformat()`` writes of it, and the summary as JSON text (PostgreSQL's driver
    # would parse it in Python otherwise).
    selected = [iso_text("at") if name == "at" else name for name in AUDIT_COLUMNS]
    if connection.vendor == "postgresql":
        selected[AUDIT_COLUMNS.index("summary")] = "summary::text"
    return f"SELECT {', '.join(selected)} FROM {AuditRow._meta.db_table} ORDER BY seq, id"


def _check_audit_trail(report: TrustReport) -> dict[str, str]:
    """The audit chain; returns the identity hash each patient's last audit row recorded."""
    head = LedgerHead.objects.filter(pk=1).first()
    prev, expected_seq, rows = GENESIS, 1, 0
    broken = False
    identities: dict[str, str] = {}
    loads = json.loads
    for values_row in _stream(_audit_sql()):
        seq, at_iso, user_id, username, operation, case_coi = values_row[:6]
        request_id, ip, user_agent, summary, digest_recorded, prev_hash = values_row[6:]
        rows += 1
        if isinstance(summary, str | bytes):
            summary = loads(summary)
        if isinstance(summary, dict) and summary.get("identity") and summary.get("patient"):
            identities[str(summary["patient"])] = str(summary["identity"])
        if broken:
            continue
        where = f"audit row {seq if seq is not None else '(unnumbered)'}"
        if seq != expected_seq:
            report.add(
                "audit-chain",
                where,
                f"expected row {expected_seq} here: a row was removed or reordered",
            )
            broken = True
            continue
        values = {
            "seq": seq,
            "user_id": user_id,
            "username": username,
            "operation": operation,
            "case_coi": case_coi,
            "request_id": request_id,
            "ip": ip,
            "user_agent": user_agent,
            "summary": summary,
            "prev": prev,
        }
        try:
            digest = audit_hash_quick(at=at_iso, **values)
        except (TypeError, ValueError):
            digest = ""
        if digest != digest_recorded:  # the exact RFC 8785 bytes decide
            _, digest = audit_bytes(at=text_time(at_iso), **values)
        if prev_hash != prev:
            report.add("audit-chain", where, "its previous-hash differs from the row before it")
            broken = True
        elif digest != digest_recorded:
            report.add(
                "audit-chain",
                where,
                "its columns (user, time, address, operation, summary) do not hash to its "
                "recorded hash (edited)",
            )
            broken = True
        prev = digest_recorded
        expected_seq += 1
    if (
        not broken
        and head is not None
        and (head.audit_seq, head.audit_hash)
        != (
            expected_seq - 1,
            prev,
        )
    ):
        report.add(
            "audit-chain",
            "audit trail end",
            f"the trail holds {expected_seq - 1} rows, the ledger head recorded "
            f"{head.audit_seq}: rows were cut",
        )
    report.checked["audit_rows"] = rows
    return identities


def _check_identities(report: TrustReport, recorded: dict[str, str]) -> None:
    patients = 0
    for patient in Patient.objects.order_by("pk").iterator(chunk_size=2000):
        patients += 1
        where = f"patient {patient.public_id}"
        now = patient_identity_hash(patient)
        sealed = recorded.get(str(patient.public_id))
        if sealed is None:
            report.add("identity", where, "no audit row recorded this patient's identity")
        elif now != sealed or patient.identity_hash != sealed:
            report.add(
                "identity",
                where,
                "the record number, name, birth date or sex shown differ from what was registered",
            )
    report.checked["patients"] = patients


def _check_signatures(report: TrustReport) -> None:
    count = 0
    query = Signature.objects.select_related("event", "signature_event").order_by("pk")
    for signature in query.iterator(chunk_size=2000):
        count += 1
        where = f"signature on event {signature.event_hash[:12]}"
        sign_event, event = signature.signature_event, signature.event
        try:
            body = json.loads(bytes(sign_event.body))
        except ValueError:
            body = {}
        data = body.get("data") or {}
        if event.hash != signature.event_hash:
            report.add("signature", where, "it names an event whose hash differs")
        elif body.get("type") != SIGNATURE_EVENT or data.get("signs") != signature.event_hash:
            report.add("signature", where, "its own event in the chain signs another record")
        elif sign_event.case_id != event.case_id:
            report.add("signature", where, "it and the signed event belong to different cases")
        elif (data.get("meaning"), data.get("signer")) != (
            signature.meaning,
            signature.signer_name,
        ):
            report.add("signature", where, "the signer or meaning shown differ from the chain")
        elif data.get("method", signature.method) != signature.method:
            report.add("signature", where, "the method shown differs from the chain")
    report.checked["signatures"] = count


def _check_registers(report: TrustReport) -> None:
    from cartflow.clinic.services.site_register import verify_registers

    sites, entries, problems = verify_registers()
    for problem in problems:
        report.add(
            "register-chain", f"register of site {problem.site} entry {problem.seq}", problem.reason
        )
    report.checked["site_registers"] = sites
    report.checked["register_entries"] = entries


def verify_everything(
    machine: CaseMachine | None = None, *, replay: bool = True, screened: bool | None = None
) -> TrustReport:
    """Every check of the module's doc; ``replay=False`` skips folding the cases again.

    Without the replay no event's bytes need parsing, and on PostgreSQL the events are
    screened by the database (:mod:`chain_screen`: it computes SHA-256 and compares the
    columns itself and sends back a row per case), the suspect cases checked in full; the
    findings are the same. On SQLite that screen is slower than the checks it replaces
    (measured: `benchmarks/audit_verify.py`; Python must still hash every row there), so it
    is used only when ``screened`` asks for it.
    """
    report = TrustReport()
    if screened is None:
        screened = not replay and connection.vendor == "postgresql"
    if screened and replay:
        # the screen reads no event of a sound case, and the replay must fold every one
        raise ValueError("verify_everything: the screen and the replay exclude each other")
    with snapshot():  # every check sees the same moment (PostgreSQL)
        _check_events(report, (machine or journey_machine()) if replay else None, screened)
        _check_identities(report, _check_audit_trail(report))
        _check_signatures(report)
        _check_registers(report)
        report.checked["cases_registered"] = TherapyCase.objects.count()
    return report

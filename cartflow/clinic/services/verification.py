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
from typing import Any, TypeAlias

import msgspec
from django.db import connection
from django.db.models import Max, Min

from cartflow.clinic.models import (
    AuditRow,
    CaseProjection,
    Event,
    LedgerHead,
    Patient,
    Signature,
    TherapyCase,
)
from cartflow.clinic.sealing import (
    IDENTITY_OPERATION,
    audit_bytes,
    audit_hash_quick,
    patient_identity_hash,
)
from cartflow.clinic.services.append import SIGNATURE_EVENT
from cartflow.clinic.services.audit import (
    CaseRange,
    CaseRows,
    LedgerChecked,
    _stream,
    assemble,
    check_cases,
    check_ledger,
    linked_in_order,
    snapshot,
)
from cartflow.clinic.services.chain_screen import iso_text
from cartflow.clinic.services.entry_head import EntryHead
from cartflow.clinic.services.forked_parts import (
    MAX_WORKERS,
    can_fork_readers,
    default_workers,
    run_parts,
)
from cartflow.clinic.services.generated_columns import columns_generated
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
    """The per-event checks verification adds to the chains' streamed pass over some cases.

    Each event's shown columns against its bytes, and (with a machine) the case folded again,
    compared with its cached state when the case's rows are intact. One case's state in
    memory at a time. Findings are kept with their case in the order they were found: a
    case's cache finding counts only if its chain also ends where the ledger says, which the
    ledger's own pass decides (:meth:`VerifyJob.report`).
    """

    def __init__(self, machine: CaseMachine | None, cases: CaseRange) -> None:
        self.machine = machine
        self.findings: list[tuple[str, Finding]] = []
        self.projections: dict[str, tuple[str, Any, int, str, bool]] = {}
        if machine is not None:
            projections = CaseProjection.objects.all()
            if cases is not None:
                projections = projections.filter(case_id__gte=cases[0], case_id__lte=cases[1])
            self.projections = {
                coi: (step, state, version, head, active)
                for coi, step, state, version, head, active in (
                    projections.values_list(
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

    def columns(self, coi: str, row: tuple[Any, ...], entry: EntryHead) -> None:
        differ = _column_differences(row, entry)
        if differ:
            finding = Finding(
                "event-column",
                f"case {coi} event {row[1]}",
                f"{', '.join(differ)} shown differ from the hashed bytes",
            )
            self.findings.append((coi, finding))

    def event(self, coi: str, row: tuple[Any, ...], entry: EntryHead) -> None:
        if coi != self.coi:
            self.coi, self.fold_error = coi, None
            self.state = self.machine.start(coi) if self.machine is not None else None
        if self.machine is not None and self.fold_error is None:
            try:
                body = json.loads(row[2])
                body.pop(PREV_KEY, None)
                self.state = fold(self.machine, self.state, DomainEvent.from_body(body))
            except Exception as exc:
                # a tampered body; raised at the case's end if its chain holds after all
                self.fold_error = exc
        self.last_body = row[2]

    def case(self, coi: str, rows: CaseRows) -> None:
        count, _, row_bad, link_bad = rows
        self.cases += 1
        self.events += count
        intact = row_bad is None and link_bad is None
        if self.machine is None or not intact or coi != self.coi:
            # A broken chain is named already; folding bytes that were tampered with would
            # only add noise (or fail on a body that is not an event at all).
            return
        if self.fold_error is not None:
            raise self.fold_error
        finding = _compare_cache(
            coi,
            self.machine,
            self.state,
            count,
            bytes(self.last_body),
            self.projections.get(coi),
        )
        if finding is not None:
            self.findings.append((coi, finding))


def _column_differences(row: tuple[Any, ...], entry: EntryHead) -> list[str]:
    """:func:`event_column_differences` for a streamed row (see ``EVENT_SCAN_COLUMNS``)."""
    names = ("type", "actor", "site", "occurred_at", "recorded_at", "schema_version")
    fields = {name: getattr(entry, name) for name in names}
    return event_column_differences(dict(zip(names, row[5:], strict=True)), fields)


def _compare_cache(
    coi: str,
    machine: CaseMachine,
    state: Any,
    count: int,
    last_body: bytes,
    cached: tuple[str, Any, int, str, bool] | None,
) -> Finding | None:
    head = hashlib.sha256(last_body).hexdigest()
    folded = (
        machine.step(state),
        json.loads(json.dumps(machine.dump(state), default=str)),
        count,
        head,
        machine.active(state),
    )
    if cached is None:
        return Finding("cache", f"case {coi}", "the case has events but no cached state")
    cached_state = cached[1] if not isinstance(cached[1], str) else json.loads(cached[1])
    names = ("step", "state", "version", "head", "active")
    differ = [
        name
        for name, mine, theirs in zip(
            names, folded, (cached[0], cached_state, *cached[2:]), strict=True
        )
        if mine != theirs
    ]
    if not differ:
        return None
    return Finding(
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


_SUMMARY = msgspec.json.Decoder()


def _summary(stored: Any, exact: bool = False) -> Any:
    """An audit row's summary as stored (JSON text), decoded by msgspec (several times
    faster), or by Python's decoder where msgspec refuses it or ``exact`` asks (the values
    :func:`audit_bytes` was given when the row was written)."""
    if not isinstance(stored, str | bytes):
        return stored
    if not exact:
        try:
            return _SUMMARY.decode(stored)
        except msgspec.DecodeError:
            pass
    return json.loads(stored)


def _check_audit_trail(report: TrustReport) -> dict[str, str]:
    """The audit chain; returns the identity hash each patient's last audit row recorded.

    While the database generates the rows' columns from their bytes as defined
    (``generated_columns``), each row is checked by its hash, position, link and user key
    alone; at the first that fails, or a changed definition, every row is rebuilt from its
    columns and checked (:func:`_check_audit_columns`), which names the break."""
    if columns_generated(AuditRow) and _linked_trail(report):
        return _recorded_identities()
    return _check_audit_columns(report)


def _linked_trail(report: TrustReport) -> bool:
    """Whether every audit row's bytes hash to its hash, at its position, after the row
    before it, with the user key the bytes recorded, to the end the ledger head recorded."""
    head = LedgerHead.objects.filter(pk=1).first()
    linked = _linked_by_the_database() if connection.vendor == "postgresql" else _linked_here()
    if linked is None:
        return False
    rows, prev = linked
    if head is not None and (head.audit_seq, head.audit_hash) != (rows, prev):
        return False
    report.checked["audit_rows"] = rows
    return True


def _linked_by_the_database() -> tuple[int, str] | None:
    """PostgreSQL: the rows and last hash when the database finds every row linked (it
    hashes them itself: one row comes back), ``None`` otherwise."""
    table = AuditRow._meta.db_table
    sql = (
        f"SELECT count(*), count(*) FILTER (WHERE NOT ok), "
        f"(SELECT hash FROM {table} ORDER BY seq DESC, id DESC LIMIT 1) FROM ("
        f"SELECT coalesce(seq = row_number() OVER w "
        f"AND prev_hash = coalesce(lag(hash) OVER w, '{GENESIS}') "
        f"AND user_id IS NOT DISTINCT FROM recorded_user_id "
        f"AND encode(sha256(body), 'hex') = hash, false) AS ok "
        # (by position alone, as the unique index holds them: two rows at one position
        # cannot both pass, whichever comes first)
        f"FROM {table} WINDOW w AS (ORDER BY seq)) checked"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows, bad, last = cursor.fetchone()
    if bad:
        return None
    return int(rows), str(last) if rows else GENESIS


def _linked_here() -> tuple[int, str] | None:
    """SQLite: the same, each row hashed here, its user key the one its bytes recorded."""
    sql = (
        f"SELECT seq, hash, prev_hash, body, user_id, recorded_user_id "
        f"FROM {AuditRow._meta.db_table} ORDER BY seq"
    )
    return linked_in_order(sql, lambda keys: keys[0] == keys[1])


def _recorded_identities() -> dict[str, str]:
    """The identity hash each patient's last audit row recorded (rows in order), read from
    the rows of the operation that records it (``audit_operation`` index)."""
    identities: dict[str, str] = {}
    summaries = (
        AuditRow.objects.filter(operation=IDENTITY_OPERATION, summary__has_key="identity")
        .order_by("seq")
        .values_list("summary", flat=True)
    )
    for summary in summaries.iterator(chunk_size=2000):
        _note_identity(identities, IDENTITY_OPERATION, summary)
    return identities


def _note_identity(identities: dict[str, str], operation: Any, summary: Any) -> None:
    """Keeps the identity hash an audit row recorded, if it is a row of the operation that
    records one (later rows replace earlier ones)."""
    if operation != IDENTITY_OPERATION or not isinstance(summary, dict):
        return
    if summary.get("identity") and summary.get("patient"):
        identities[str(summary["patient"])] = str(summary["identity"])


def _check_audit_columns(report: TrustReport) -> dict[str, str]:
    """The audit chain, each row rebuilt from its columns and hashed."""
    head = LedgerHead.objects.filter(pk=1).first()
    prev, expected_seq, rows = GENESIS, 1, 0
    broken = False
    identities: dict[str, str] = {}
    for row in _stream(_audit_sql()):
        rows += 1
        summary = _summary(row[9])
        _note_identity(identities, row[4], summary)
        if broken:
            continue
        seq, digest_recorded, prev_hash = row[0], row[10], row[11]
        if seq != expected_seq:
            report.add(
                "audit-chain",
                _audit_where(seq),
                f"expected row {expected_seq} here: a row was removed or reordered",
            )
            broken = True
            continue
        try:
            digest = audit_hash_quick((*row[:9], summary), prev)
        except (TypeError, ValueError):
            digest = ""
        if digest != digest_recorded:  # the exact RFC 8785 bytes decide
            digest = _audit_digest_exact(row, prev)
        if prev_hash != prev:
            report.add(
                "audit-chain",
                _audit_where(seq),
                "its previous-hash differs from the row before it",
            )
            broken = True
        elif digest != digest_recorded:
            report.add(
                "audit-chain",
                _audit_where(seq),
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


def _audit_where(seq: Any) -> str:
    return f"audit row {seq if seq is not None else '(unnumbered)'}"


def _audit_digest_exact(row: tuple[Any, ...], prev: str) -> str:
    """The hash of an audit row (``_audit_sql``'s columns) as :func:`audit_bytes` writes it."""
    seq, at_iso, user_id, username, operation, case_coi, request_id, ip, user_agent = row[:9]
    _, digest = audit_bytes(
        seq=seq,
        at=text_time(at_iso),
        user_id=user_id,
        username=username,
        operation=operation,
        case_coi=case_coi,
        request_id=request_id,
        ip=ip,
        user_agent=user_agent,
        summary=_summary(row[9], exact=True),
        prev=prev,
    )
    return digest


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


PARALLEL_FROM = 20_000
"""Events from which a verification left to choose runs in several processes: below it,
starting them costs more than they save."""

PartKind: TypeAlias = str
"""``"trail"`` (the audit trail and identities), ``"ledger"``, ``"events"`` (a range of
cases), ``"rest"`` (signatures, registers, the cases' count)."""


@dataclass
class _PartResult:
    moment: tuple[Any, ...] | None
    """The ledger head as the part's snapshot saw it: every write moves it."""
    report: TrustReport
    ledger: LedgerChecked | None = None
    cases: list[tuple[str, CaseRows]] = field(default_factory=list)
    case_findings: list[tuple[str, Finding]] = field(default_factory=list)


class VerifyJob:
    """One verification split into parts that need nothing from one another until
    :meth:`report` puts them together; each part reads in a snapshot of its own."""

    def __init__(self, machine: CaseMachine | None, screened: bool, ranges: int) -> None:
        self.machine = machine
        self.screened = screened
        # The parts that cannot be split first, the short ranges of cases last, so that the
        # processes finish close together.
        self.parts: list[tuple[PartKind, CaseRange]] = [
            ("trail", None),
            ("ledger", None),
            ("rest", None),
            *[("events", cases) for cases in _case_ranges(ranges)],
        ]

    def run_part(self, index: int) -> _PartResult:
        kind, cases = self.parts[index]
        with snapshot():
            result = _PartResult(_moment(), TrustReport())
            if kind == "ledger":
                result.ledger = check_ledger()
            elif kind == "events":
                self._check_events(result, cases)
            elif kind == "trail":
                _check_identities(result.report, _check_audit_trail(result.report))
            else:
                _check_signatures(result.report)
                _check_registers(result.report)
                result.report.checked["cases_registered"] = TherapyCase.objects.count()
        return result

    def _check_events(self, result: _PartResult, cases: CaseRange) -> None:
        """The cases' chains and every event's columns (and replay), in one streamed pass."""
        checks = _EventChecks(self.machine, cases)
        on_event = checks.event if self.machine is not None else None
        for coi, rows in check_cases(on_event, checks.columns, screened=self.screened, cases=cases):
            checks.case(coi, rows)
            result.cases.append((coi, rows))
        result.case_findings = checks.findings
        result.report.checked.update(events=checks.events, cases=checks.cases)

    def report(self, results: list[_PartResult]) -> TrustReport:
        """The parts' findings in the order one pass would find them: each event's, the
        chains', the audit trail's, the rest."""
        by_kind: dict[PartKind, list[_PartResult]] = {}
        for (kind, _), result in zip(self.parts, results, strict=True):
            by_kind.setdefault(kind, []).append(result)
        (ledger_part,) = by_kind["ledger"]
        assert ledger_part.ledger is not None
        events = by_kind["events"]
        network = assemble(ledger_part.ledger, (case for part in events for case in part.cases))
        broken = {case.coi for case in network.broken_cases}
        report = TrustReport()
        for part in events:
            # a cache compared with a chain that turns out cut is only noise beside it
            report.findings += [
                finding
                for coi, finding in part.case_findings
                if finding.kind != "cache" or coi not in broken
            ]
        if network.ledger_broken_at is not None:
            report.add(
                "ledger-chain", f"ledger entry {network.ledger_broken_at}", network.ledger_reason
            )
        for case in network.broken_cases:
            report.add("event-chain", f"case {case.coi} event {case.broken_at}", case.reason)
        report.network = network.to_dict()
        report.checked["ledger_entries"] = network.ledger_entries
        report.checked["events"] = sum(part.report.checked["events"] for part in events)
        report.checked["cases"] = sum(part.report.checked["cases"] for part in events)
        for kind in ("trail", "rest"):
            (part,) = by_kind[kind]
            report.findings += part.report.findings
            report.checked.update(part.report.checked)
        return report


def _moment() -> tuple[Any, ...] | None:
    return (
        LedgerHead.objects.filter(pk=1)
        .values_list("seq", "hash", "audit_seq", "audit_hash")
        .first()
    )


def _case_ranges(count: int) -> list[CaseRange]:
    """The cases split into ``count`` ranges of row ids (one: all of them)."""
    if count <= 1:
        return [None]
    bounds = TherapyCase.objects.aggregate(low=Min("pk"), high=Max("pk"))
    low, high = bounds["low"], bounds["high"]
    if low is None:
        return [None]
    step = -(-(high - low + 1) // count)
    return [(first, min(high, first + step - 1)) for first in range(low, high + 1, step)]


def _events_estimate() -> int:
    return int(Event.objects.aggregate(last=Max("pk"))["last"] or 0)


def verify_everything(
    machine: CaseMachine | None = None,
    *,
    replay: bool = True,
    screened: bool | None = None,
    workers: int | None = None,
) -> TrustReport:
    """Every check of the module's doc; ``replay=False`` skips folding the cases again.

    Without the replay no event's bytes need parsing, and on PostgreSQL the events are
    screened by the database (:mod:`chain_screen`: it computes SHA-256 and compares the
    columns itself and sends back a row per case), the suspect cases checked in full; the
    findings are the same. On SQLite that screen is slower than the checks it replaces
    (measured: `benchmarks/audit_verify.py`; Python must still hash every row there), so it
    is used only when ``screened`` asks for it.

    ``workers``: the processes the checks run in (:mod:`forked_parts`), each over a part of
    the record (the audit trail, the ledger, ranges of cases); by default every core from
    :data:`PARALLEL_FROM` events on. The parts must have seen the same ledger head (every
    write moves it); if a write landed between their snapshots, the checks run again in this
    process, in one snapshot. The findings are the same either way
    (``tests/trust/test_verify_workers.py``).
    """
    if screened is None:
        screened = not replay and connection.vendor == "postgresql"
    if screened and replay:
        # the screen reads no event of a sound case, and the replay must fold every one
        raise ValueError("verify_everything: the screen and the replay exclude each other")
    if workers is None:
        workers = default_workers()
        if workers > 1 and _events_estimate() < PARALLEL_FROM:
            workers = 1
    elif not can_fork_readers():
        workers = 1
    workers = min(workers, MAX_WORKERS)
    checks_machine = (machine or journey_machine()) if replay else None
    if workers > 1:
        job = VerifyJob(checks_machine, screened, ranges=4 * workers)
        results = run_parts(job.run_part, len(job.parts), workers)
        if len({result.moment for result in results}) == 1:
            return job.report(results)
    job = VerifyJob(checks_machine, screened, ranges=1)
    with snapshot():  # every part sees the same moment
        return job.report([job.run_part(index) for index in range(len(job.parts))])

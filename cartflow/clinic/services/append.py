"""The one write path of a case: lock, decide, chain, fold, project, ledger, audit; all or none.

Every operation on a case (refer, record a collection, sign, ...) is a thin function over
:func:`append`. In ONE transaction it locks the case, reads the clock, replays the case's
stored events (each link checked, the end checked against the ledger) and asks the domain's
``decide`` for the events on that state, links them into the case's hash chain, folds them
into the state, updates the projection, chains the case's new head into the network ledger
and writes exactly one audit row (chained too). A refusal of the domain, a conflict or any
database error rolls all of it back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, overload

from django.contrib.auth.models import User
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from cartflow.clinic.models import CaseProjection, Signature, TherapyCase
from cartflow.clinic.models import Event as EventRecord
from cartflow.clinic.sealing import audit_bytes
from cartflow.clinic.services import store
from cartflow.clinic.services.context import NO_REQUEST, Actor, RequestMeta
from cartflow.clinic.services.entry_head import entry_head
from cartflow.clinic.services.errors import Conflict, NotFound
from cartflow.clinic.services.folded_states import FOLDED, Folded
from cartflow.clinic.services.machine import CaseMachine, fold, journey_machine
from cartflow.domain.errors import InvalidInput
from cartflow.domain.events import Event
from cartflow.domain.hashchain import GENESIS, PREV_KEY, canonical_bytes, link
from cartflow.domain.identifiers import parse_identifier

CONFLICT_CHANGED = (
    "the case {coi} changed since you loaded it (version {expected}, now {actual}): "
    "reload it and try again"
)
CONFLICT_RACE = (
    "another change to the case {coi} was saved at the same moment: reload and try again"
)
CONFLICT_BUSY = "the database is busy with another change: try again in a moment"
CONFLICT_BROKEN = (
    "the record of the case {coi} does not verify ({reason}): nothing was recorded; "
    "ask an auditor to run `cartflow audit verify`"
)
LEDGER_DIFFERS = "its events end elsewhere than the network ledger recorded"


SIGNATURE_EVENT = "signature.applied"


@dataclass(frozen=True)
class SignatureIntent:
    """A signature the signer has re-authenticated for; written with the append it signs.

    Without ``event_hash`` it signs the last event of the append it travels with; with it,
    an event already recorded (a later review or approval).
    """

    signer: User
    signer_name: str
    meaning: str
    method: str = "password"
    event_hash: str = ""
    event_id: int | None = None
    event_seq: int = 0

    def as_event(self, signed_hash: str, signed_seq: int, now: datetime) -> Event:
        return Event(
            type=SIGNATURE_EVENT,
            occurred_at=now,
            recorded_at=now,
            actor=actor_name(self.signer),
            data={
                "signs": signed_hash,
                "signs_seq": signed_seq,
                "signer": self.signer_name,
                "meaning": self.meaning,
                "method": self.method,
            },
        )


@dataclass(frozen=True)
class Appended:
    """One stored event: its row id, position, type and hash, and the row as written (so an
    answer can be built without reading it back)."""

    id: int
    seq: int
    type: str
    hash: str
    row: store.EventRow


@dataclass
class AppendResult:
    """What an append stored; passed to the ``then`` hook inside the transaction, too."""

    case: TherapyCase
    state: Any
    step: str
    version: int
    head: str
    events: list[Appended]
    now: datetime
    signature: Signature | None = None

    def last(self, event_type: str | None = None) -> Appended:
        """The last stored event (of ``event_type``, when given)."""
        for appended in reversed(self.events):
            if event_type is None or appended.type == event_type:
                return appended
        raise LookupError(f"no {event_type or ''} event in this append")


def actor_name(user: Actor) -> str:
    return str(getattr(user, "username", "") or "system")


def entry_bytes(event: Event, coi: str, seq: int, prev: str) -> tuple[bytes, str]:
    """The stored bytes of an event and their hash.

    The case's identifier and the event's position are inside the hashed bytes, so an event
    copied into another case, or moved within its own, no longer verifies.
    """
    body = {**event.to_body(), "case": coi, "seq": seq}
    data = canonical_bytes(link(body, prev))
    return data, hashlib.sha256(data).hexdigest()


def ledger_bytes(seq: int, coi: str, head: str, version: int, prev: str) -> tuple[bytes, str]:
    body = {"seq": seq, "case": coi, "head": head, "version": version}
    data = canonical_bytes(link(body, prev))
    return data, hashlib.sha256(data).hexdigest()


class RecordBroken(Conflict):
    """The case's stored events do not verify: no decision is taken on them."""


def replay_chain(
    coi: str,
    rows: Sequence[tuple[int, bytes, str, str]],
    machine: CaseMachine,
    start: Folded | None = None,
) -> tuple[Any, int, str]:
    """The state folded from the case's stored bytes, its version and head; each link checked.

    Every row must hash to its hash column, name the row before it and sit at its own
    position in its own case; otherwise :class:`RecordBroken`. With ``start`` (the state this
    process folded before, :mod:`folded_states`) whose last event is still stored with the
    hash it remembers, every row is checked the same way but only those after it are folded.
    """
    resume = (
        start is not None
        and 0 < start.version <= len(rows)
        and rows[start.version - 1][2] == start.head
    )
    folded_to = start.version if start is not None and resume else 0
    state = start.state if start is not None and resume else machine.start(coi)
    prev = GENESIS
    for index, (seq, body, digest, prev_hash) in enumerate(rows, start=1):
        entry: dict[str, Any] = {}
        if index > folded_to:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            entry = parsed if isinstance(parsed, dict) else {}
            stated = (entry.get(PREV_KEY), entry.get("case"), entry.get("seq"))
        else:
            head = entry_head(body)  # what the check reads, without building the data
            stated = (head.prev, head.case, head.seq) if head is not None else (None,) * 3
        if (
            hashlib.sha256(body).hexdigest() != digest
            or prev_hash != prev
            or stated != (prev, coi, seq)
            or seq != index
        ):
            raise RecordBroken(CONFLICT_BROKEN.format(coi=coi, reason=f"event {seq}"))
        if index > folded_to:
            state = fold(machine, state, Event.from_body(entry))
        prev = digest
    return state, len(rows), prev


def sealed_audit(seq: int, prev: str, **values: Any) -> store.AuditValues:
    """An audit row chained after ``prev`` at position ``seq`` of the audit trail."""
    data, digest = audit_bytes(seq=seq, prev=prev, **values)
    return store.AuditValues(**values, seq=seq, hash=digest, prev_hash=prev, body=data)


def resolve_case(case: TherapyCase | str) -> TherapyCase:
    if isinstance(case, TherapyCase):
        return case
    try:
        coi = parse_identifier(case).compact  # any written form: eye-readable, barcode
    except InvalidInput:
        raise NotFound(f"no therapy case {case}") from None
    found = TherapyCase.objects.filter(coi=coi).first()
    if found is None:
        raise NotFound(f"no therapy case {case}")
    return found


@dataclass(frozen=True, kw_only=True)
class AppendRequest:
    """What one append needs: the case, the command, who asks, and how it is to be stored.

    ``expected_version`` is the number of events the caller saw (the API's ``If-Match``):
    when the case has moved on since, the append is refused with :class:`Conflict` instead of
    deciding on a state the user never saw. ``extra_events`` adds store-level events after the
    domain's (a signature); ``then`` runs inside the transaction after the writes (rows
    beside the log: a slot booking, a collection, a signature). ``now`` is for a caller that
    must record at a time it already read (opening a case); otherwise the clock is read once
    the case is locked.
    """

    case: TherapyCase | str
    command: object | None
    acting_user: Actor
    request_meta: RequestMeta = NO_REQUEST
    operation: str | None = None
    expected_version: int | None = None
    machine: CaseMachine | None = None
    extra_events: Callable[[Any, datetime], Sequence[Event]] | None = None
    then: Callable[[AppendResult], None] | None = None
    summary: Mapping[str, Any] | None = None
    signature: SignatureIntent | None = None
    now: datetime | None = None


@overload
def append(request: AppendRequest, /) -> AppendResult: ...
@overload
def append(case: TherapyCase | str, command: object | None, /, **fields: Any) -> AppendResult: ...
def append(
    request: AppendRequest | TherapyCase | str, command: object | None = None, /, **fields: Any
) -> AppendResult:
    """Decide the request's command on its case and store the events, all in one transaction.

    The services pass an :class:`AppendRequest`; ``append(case, command, acting_user=...)``
    with the request's fields as keywords is the same call, spelt short for tests and scripts.
    """
    if not isinstance(request, AppendRequest):
        request = AppendRequest(case=request, command=command, **fields)
    case = resolve_case(request.case)
    request = replace(request, case=case)
    try:
        with transaction.atomic():
            return append_in_transaction(request)
    except IntegrityError as exc:
        # The unique (case, seq) / (case, prev_hash) / ledger constraints: a second writer
        # got past the lock (it cannot, but if it did the chain still does not fork).
        raise Conflict(CONFLICT_RACE.format(coi=case.coi)) from exc
    except OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise Conflict(CONFLICT_BUSY) from exc
        raise


def append_in_transaction(request: AppendRequest) -> AppendResult:
    """:func:`append` for a caller that already holds the transaction (opening a case)."""
    case = resolve_case(request.case)
    command = request.command
    acting_user = request.acting_user
    signature = request.signature
    machine = request.machine or journey_machine()
    locked = store.lock_case(case.pk)
    if locked is None:
        raise NotFound(f"no therapy case {case.coi}")
    # The times are read only now that the case is ours: a writer that waited for the lock
    # records after the one it waited for, so its events never lie before the case's last.
    now = request.now or timezone.now()
    # Decided on the stored bytes, verified, never on the projection: the projection is a
    # cache that nothing protects, and a state edited there must not steer a decision.
    chain = store.case_chain(case.pk, case.coi)
    before, version, head = replay_chain(
        case.coi, chain.rows, machine, FOLDED.get(case.coi, machine)
    )
    if (head, version) != (chain.ledger_head or (GENESIS, 0)):
        raise RecordBroken(CONFLICT_BROKEN.format(coi=case.coi, reason=LEDGER_DIFFERS))
    FOLDED.put(case.coi, Folded(machine, version, head, before))
    expected_version = request.expected_version
    if expected_version is not None and expected_version != version:
        raise Conflict(
            CONFLICT_CHANGED.format(coi=case.coi, expected=expected_version, actual=version)
        )
    step_before = machine.step(before)
    cache_stale = (locked.version, locked.head, locked.step) != (version, head, step_before)
    decided = list(machine.decide(before, command, now)) if command is not None else []
    if request.extra_events is not None:
        decided.extend(request.extra_events(before, now))
    if not decided and signature is None:
        return AppendResult(case, before, step_before, version, head, [], now)

    state = before
    prev = head
    actor = actor_name(acting_user)
    rows: list[store.EventRow] = []
    for offset, event in enumerate(decided, start=1):
        # The actor is whoever is signed in, whatever the command claimed.
        recorded = replace(event, actor=actor, recorded_at=event.recorded_at or now)
        seq = version + offset
        data, digest = entry_bytes(recorded, case.coi, seq, prev)
        rows.append(
            store.EventRow(
                seq,
                recorded.type,
                recorded.schema_version,
                recorded.occurred_at,
                recorded.recorded_at or now,
                recorded.actor,
                recorded.site,
                data,
                digest,
                prev,
            )
        )
        state = fold(machine, state, recorded)
        prev = digest
    signed: tuple[int | None, int, str] | None = None
    if signature is not None:
        # The signature is itself an event of the chain, after the event it signs: removing
        # it, or pointing it at another record, breaks the chain or the binding.
        if signature.event_hash:
            if (
                signature.event_id is None
                or not EventRecord.objects.filter(
                    pk=signature.event_id, case=case, hash=signature.event_hash
                ).exists()
            ):
                raise NotFound(f"no event {signature.event_hash} in the case {case.coi}")
            signed = (signature.event_id, signature.event_seq, signature.event_hash)
        elif rows:
            signed = (None, rows[-1].seq, rows[-1].hash)
        else:
            raise ValueError("a signature needs an event to sign")
        sign_event = signature.as_event(signed[2], signed[1], now)
        seq = version + len(rows) + 1
        data, digest = entry_bytes(sign_event, case.coi, seq, prev)
        rows.append(
            store.EventRow(
                seq,
                sign_event.type,
                sign_event.schema_version,
                sign_event.occurred_at,
                now,
                sign_event.actor,
                sign_event.site,
                data,
                digest,
                prev,
            )
        )
        prev = digest

    version_before, version = version, version + len(rows)
    step = machine.step(state)
    ledger_seq = locked.ledger_seq + 1
    ledger_data, ledger_hash = ledger_bytes(ledger_seq, case.coi, prev, version, locked.ledger_hash)
    operation = request.operation or _operation_name(command)
    audit = sealed_audit(
        locked.audit_seq + 1,
        locked.audit_hash,
        at=now,
        user_id=getattr(acting_user, "pk", None),
        username=actor_name(acting_user),
        operation=operation,
        case_coi=case.coi,
        request_id=request.request_meta.request_id,
        ip=request.request_meta.ip,
        user_agent=request.request_meta.user_agent,
        summary={
            "step": [step_before, step],
            "version": [version_before, version],
            "events": [row.type for row in rows],
            "head": prev,
            # The projection disagreed with the log and is rewritten by this append.
            **({"cache_repaired": True} if cache_stale else {}),
            **(request.summary or {}),
        },
    )
    ids = store.write_append(
        case.pk,
        rows,
        store.ProjectionValues(
            step, machine.dump(state), version, prev, machine.active(state), now
        ),
        store.LedgerRow(
            ledger_seq, case.coi, prev, version, ledger_data, ledger_hash, locked.ledger_hash
        ),
        audit,
    )
    result = AppendResult(
        case,
        state,
        step,
        version,
        prev,
        [
            Appended(i, row.seq, row.type, row.hash, row)
            for i, row in zip(ids, rows, strict=True)
        ],
        now,
    )
    if signature is not None and signed is not None:
        signed_id = signed[0]
        if signed_id is None:
            signed_id = next(a.id for a in result.events if a.hash == signed[2])
        result.signature = Signature.objects.create(
            event_id=signed_id,
            event_hash=signed[2],
            signature_event_id=result.events[-1].id,
            signer=signature.signer,
            signer_name=signature.signer_name,
            meaning=signature.meaning,
            signed_at=now,
            method=signature.method,
        )
    if request.then is not None:
        request.then(result)
    return result


def _operation_name(command: Any) -> str:
    """``RecordCollection`` -> ``record_collection``."""
    name = type(command).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def create_projection(case: TherapyCase, machine: CaseMachine, now: datetime) -> CaseProjection:
    """The projection of a case with no events yet (inside the opening transaction)."""
    state = machine.start(case.coi)
    return CaseProjection.objects.create(
        case=case,
        step=machine.step(state),
        state=machine.dump(state),
        version=0,
        head=GENESIS,
        active=True,
        updated_at=now,
    )

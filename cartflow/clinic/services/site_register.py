"""A site's register of signed protocol values: sign an entry, read the register, verify it.

One path for the register page, ``POST /api/sites/{slug}/register`` and ``cartflow register
sign``: :func:`sign_entry` checks that the signer is a physician or quality reviewer of the
site, re-authenticates them (:mod:`cartflow.clinic.services.signatures`: the password again,
the meaning stated), lets the domain refuse what a site may not sign
(``site_register.check_entry``), and in ONE transaction, under the ledger head's lock that
every write takes first, chains the entry after the site's last one and writes the one audit
row of the write (which records the register's new head, so a cut tail is found).

Decisions read the register from its hashed bytes (:func:`register_of`), never from the
columns beside them, and refuse to decide on a register whose chain does not verify.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cartflow.clinic.access import Forbidden, memberships
from cartflow.clinic.models import AuditRow, LedgerHead, Site, SiteRegisterEntry
from cartflow.clinic.services.append import actor_name
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.errors import Conflict, NotFound
from cartflow.clinic.services.machine import catalog
from cartflow.clinic.services.records import write_audit
from cartflow.clinic.services.register_chain import (
    REGISTER_BROKEN,
    ChainProblem,
    RegisterBroken,
    check_chain,
    entries_of,
    register_of,
    register_rows,
)
from cartflow.clinic.services.signatures import Meaning, signature_intent
from cartflow.domain.catalog import ResolvedFact
from cartflow.domain.errors import DomainError, InvalidInput
from cartflow.domain.hashchain import GENESIS, canonical_bytes, link
from cartflow.domain.roles import Action, Role, can
from cartflow.domain.site_register import (
    ENTRY_TYPE,
    SIGNER_ROLES,
    RegisterEntry,
    check_entry,
    entry_in_force,
    unknown_facts,
    values_in_force,
)

OPERATION = "sign_site_register"
SCHEMA_VERSION = 1


def get_site(slug: str) -> Site:
    site = Site.objects.filter(slug=slug).first()
    if site is None:
        raise NotFound(f"no site {slug}")
    return site


def signer_role(user: Any, site: Site) -> Role | None:
    """The role in which ``user`` signs the register of ``site`` (physician first), if any."""
    held = {Role(role) for site_id, _, role in memberships(user) if site_id == site.pk}
    for role in SIGNER_ROLES:
        if role in held and can(role, Action.RECORD_SITE_PROTOCOL_VALUE):
            return role
    return None


def may_sign(user: Any, site: Site) -> bool:
    return signer_role(user, site) is not None


def sites_to_sign(user: Any) -> list[Site]:
    """The sites whose register the user may see and sign (physician or quality there)."""
    ids = {
        site_id
        for site_id, _, role in memberships(user)
        if Role(role) in SIGNER_ROLES and can(Role(role), Action.RECORD_SITE_PROTOCOL_VALUE)
    }
    return list(Site.objects.filter(pk__in=ids).order_by("name"))


def entry_bytes(
    site: str,
    seq: int,
    data: dict[str, Any],
    signature: dict[str, Any],
    recorded_at: datetime,
    prev: str,
) -> tuple[bytes, str]:
    """The stored bytes of a register entry and their hash (the site and position inside)."""
    body = {
        "type": ENTRY_TYPE,
        "schema_version": SCHEMA_VERSION,
        "site": site,
        "seq": seq,
        "data": data,
        "signature": signature,
        "recorded_at": recorded_at.isoformat(),
    }
    raw = canonical_bytes(link(body, prev))
    return raw, hashlib.sha256(raw).hexdigest()


def site_values(site: Site | str, on: date, case_values: Sequence[Any] = ()) -> tuple[Any, ...]:
    """The site values in force at ``site`` on ``on`` (register first, then the case's own)."""
    slug = site if isinstance(site, str) else site.slug
    return values_in_force(register_of(site), slug, on, case_values)


def case_site_values(state: Any, on: date) -> tuple[Any, ...]:
    """The site values a case's decision on ``on`` reads: its site's register in force, then
    any recorded on the case itself (``site_protocol.recorded``, before the register)."""
    own = tuple(getattr(state, "site_values", ()) or ())
    site = getattr(state, "site", "")
    return site_values(site, on, own) if site else own


def case_fact(state: Any, name: str, on: date) -> ResolvedFact | None:
    """The fact ``name`` as a decision on ``on`` at the case's site reads it (the label's, or
    the site's signed value where the label does not give it); ``None`` when neither does."""
    try:
        resolved: ResolvedFact = (
            catalog()
            .indication(state.indication_id)
            .resolve(name, on, state.region or None, case_site_values(state, on))
        )
    except DomainError:
        return None
    return resolved


def sign_entry(
    site: Site | str,
    *,
    indication: str,
    fact: str,
    value: Any,
    document_ref: str,
    effective_from: date,
    effective_to: date | None = None,
    acting_user: Any,
    password: str,
    request_meta: RequestMeta = NO_REQUEST,
    request: Any = None,
    now: datetime | None = None,
) -> SiteRegisterEntry:
    """Sign one entry into the site's register (see the module docstring)."""
    site = get_site(site) if isinstance(site, str) else site
    role = signer_role(acting_user, site)
    if role is None:
        raise Forbidden(
            f"only a physician or a quality reviewer of {site.name} signs its protocol values"
        )
    if not isinstance(effective_from, date):
        raise InvalidInput("effective_from: the first day the value is in force (YYYY-MM-DD)")
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # a plain word stays a word; the domain checks
            value = json.loads(value)
    entry = RegisterEntry(
        site=site.slug,
        indication=str(indication or "").strip(),
        fact=str(fact or "").strip(),
        value=value,
        document_ref=str(document_ref or "").strip(),
        effective_from=effective_from,
        effective_to=effective_to,
        signed_by=actor_name(acting_user),
        signer_role=role,
        sequence=0,
    )
    check_entry(catalog(), entry, site.region)
    intent = signature_intent(acting_user, password, Meaning.APPROVAL, request)
    entry = dataclasses.replace(entry, signer_name=intent.signer_name)
    try:
        with transaction.atomic():
            LedgerHead.objects.select_for_update().get(pk=1)
            rows = register_rows(site.pk)
            problem = check_chain(site, rows)
            if problem is not None:
                raise RegisterBroken(
                    REGISTER_BROKEN.format(
                        site=site.slug, reason=f"entry {problem.seq}: {problem.reason}"
                    )
                )
            at = now or timezone.now()
            seq = len(rows) + 1
            prev = rows[-1].hash if rows else GENESIS
            signature = {
                "signer": intent.signer_name,
                "signer_id": actor_name(acting_user),
                "role": role.value,
                "meaning": intent.meaning,
                "method": intent.method,
                "signed_at": at.isoformat(),
            }
            raw, digest = entry_bytes(site.slug, seq, entry.to_data(), signature, at, prev)
            row = SiteRegisterEntry.objects.create(
                site=site,
                seq=seq,
                indication=entry.indication,
                fact=entry.fact,
                effective_from=entry.effective_from,
                effective_to=entry.effective_to,
                document_ref=entry.document_ref,
                signer=acting_user,
                signer_name=intent.signer_name,
                signer_role=role.value,
                meaning=intent.meaning,
                recorded_at=at,
                body=raw,
                hash=digest,
                prev_hash=prev,
            )
            write_audit(
                OPERATION,
                acting_user=acting_user,
                request_meta=request_meta,
                summary={
                    "site_register": site.slug,
                    "register_seq": seq,
                    "register_head": digest,
                    "indication": entry.indication,
                    "fact": entry.fact,
                    "effective_from": entry.effective_from.isoformat(),
                },
            )
    except IntegrityError as exc:
        raise Conflict(
            "another entry was signed into this register at the same moment: try again"
        ) from exc
    return row


# --- verification ----------------------------------------------------------------------------


def _last_audited_heads() -> dict[str, tuple[int, str]]:
    """Each site's register head as the chained audit trail last recorded it."""
    heads: dict[str, tuple[int, str]] = {}
    rows = AuditRow.objects.filter(operation=OPERATION).order_by("seq").values_list("summary")
    for (summary,) in rows.iterator(chunk_size=2000):
        if isinstance(summary, str):
            summary = json.loads(summary)
        if isinstance(summary, dict) and summary.get("site_register"):
            heads[str(summary["site_register"])] = (
                int(summary.get("register_seq", 0)),
                str(summary.get("register_head", "")),
            )
    return heads


def verify_registers() -> tuple[int, int, list[ChainProblem]]:
    """Every site's register: (sites with entries, entries, problems). A chain that verifies
    must also end where the audit trail last recorded it (a cut tail is found)."""
    audited = _last_audited_heads()
    problems: list[ChainProblem] = []
    sites = entries = 0
    seen: set[str] = set()
    for site in Site.objects.filter(register_entries__isnull=False).distinct().order_by("pk"):
        rows = register_rows(site.pk)
        sites += 1
        entries += len(rows)
        seen.add(site.slug)
        problem = check_chain(site, rows)
        if problem is not None:
            problems.append(problem)
            continue
        end = (rows[-1].seq, rows[-1].hash) if rows else (0, GENESIS)
        if site.slug in audited and audited[site.slug] != end:
            problems.append(
                ChainProblem(
                    site.slug,
                    end[0],
                    f"the register holds {end[0]} entries, the audit trail recorded "
                    f"{audited[site.slug][0]}: entries were cut",
                )
            )
    for slug, (seq, _) in audited.items():
        if slug not in seen:
            problems.append(
                ChainProblem(
                    slug, 0, f"the audit trail recorded {seq} entries; the register holds none"
                )
            )
    return sites, entries, problems


# --- what the page shows -----------------------------------------------------------------------


@dataclass(frozen=True)
class SignedRow:
    seq: int
    fact: str
    value: Any
    document_ref: str
    effective_from: date
    effective_to: date | None
    signer_name: str
    signer_role: str
    signed_at: str
    in_force: bool
    superseded: bool


@dataclass(frozen=True)
class IndicationRegister:
    indication: str
    title: str
    regions: tuple[str, ...]
    unknown: tuple[str, ...]  # facts the catalog does not know in the site's region
    open_facts: tuple[str, ...]  # of them, those with no signed value in force
    signed: tuple[SignedRow, ...]


@dataclass(frozen=True)
class ProductRegister:
    product: str
    brand: str
    indications: tuple[IndicationRegister, ...]


def overview(site: Site, on: date) -> list[ProductRegister]:
    """Per product approved in the site's region: each indication's unknown facts and the
    site's signed values (in force on ``on``, superseded, or not yet in force)."""
    rows = register_rows(site.pk)
    problem = check_chain(site, rows)
    if problem is not None:
        raise RegisterBroken(
            REGISTER_BROKEN.format(site=site.slug, reason=f"entry {problem.seq}: {problem.reason}")
        )
    entries = entries_of(rows)
    signatures = {
        row.seq: json.loads(bytes(row.body)).get("signature", {}).get("signed_at", "")
        for row in rows
    }
    in_force = {(v.indication, v.fact): v for v in values_in_force(entries, site.slug, on)}
    products = []
    for product in catalog().products:
        found = []
        for indication in product.indications:
            if not any(a.region == site.region for a in indication.approvals):
                continue
            unknown = unknown_facts(indication, on, site.region)
            mine = [e for e in entries if e.indication == indication.id]
            signed = []
            for e in mine:
                live = _winner(entries, site.slug, e, on)
                later = any(o.sequence > e.sequence and o.fact == e.fact for o in mine)
                signed.append(
                    SignedRow(
                        e.sequence,
                        e.fact,
                        e.value,
                        e.document_ref,
                        e.effective_from,
                        e.effective_to,
                        e.signer_name,
                        e.signer_role.value,
                        str(signatures.get(e.sequence, "")),
                        live,
                        later and not live,
                    )
                )
            open_facts = tuple(f for f in unknown if (indication.id, f) not in in_force)
            found.append(
                IndicationRegister(
                    indication.id,
                    indication.title,
                    tuple(sorted({a.region for a in indication.approvals})),
                    unknown,
                    open_facts,
                    tuple(reversed(signed)),
                )
            )
        if found:
            products.append(ProductRegister(product.id, product.brand, tuple(found)))
    return products


def _winner(entries: Sequence[RegisterEntry], site: str, entry: RegisterEntry, on: date) -> bool:
    chosen = entry_in_force(entries, site, entry.indication, entry.fact, on)
    return chosen is not None and chosen.sequence == entry.sequence


def iter_sites_with_register() -> Iterator[Site]:
    yield from Site.objects.filter(register_entries__isnull=False).distinct().order_by("name")


# --- review: the open cases a new value or catalog changes --------------------------------


def _signed_facts(case: Any) -> dict[str, Any] | None:
    from cartflow.clinic.models import Event

    rows = Event.objects.filter(
        case=case, type__in=("eligibility.signed", "exception.off_label_eligibility")
    ).order_by("-seq")
    for row in rows[:1]:
        data = json.loads(bytes(row.body)).get("data") or {}
        facts = data.get("patient_facts")
        if isinstance(facts, dict):
            return facts
    return None


def review(
    site: Site,
    on: date,
    *,
    proposed: dict[str, Any] | None = None,
    catalog_after: Any = None,
) -> list[dict[str, str]]:
    """The open cases treated at ``site`` whose eligibility or dose range on ``on`` changes
    under a proposed register entry (``indication``, ``fact``, ``value``, ``document_ref``,
    ``effective_from``, ``effective_to``; checked like a signed one) and/or another catalog
    version. Records nothing."""
    from cartflow.clinic.models import CaseProjection
    from cartflow.clinic.services.machine import journey_machine
    from cartflow.domain.review import OpenCase, changes

    current = catalog()
    after = catalog_after or current
    register = register_of(site)
    register_after = register
    if proposed is not None:
        entry = RegisterEntry(
            site=site.slug,
            indication=str(proposed.get("indication", "")),
            fact=str(proposed.get("fact", "")),
            value=proposed.get("value"),
            document_ref=str(proposed.get("document_ref") or "proposed value (not signed)"),
            effective_from=proposed.get("effective_from") or on,
            effective_to=proposed.get("effective_to"),
            signed_by="(proposed)",
            signer_role=Role.PHYSICIAN,
            sequence=max((e.sequence for e in register), default=0) + 1,
        )
        check_entry(after, entry, site.region)
        register_after = (*register, entry)
    machine = journey_machine()
    found: list[dict[str, str]] = []
    rows = CaseProjection.objects.filter(case__treating_site=site, active=True).select_related(
        "case"
    )
    for row in rows.order_by("case__coi"):
        state = machine.load(row.state)
        if not getattr(state, "indication_id", ""):
            continue
        weight = state.order_weight_kg or state.latest_weight_kg
        case = OpenCase(
            coi=row.case.coi,
            indication=state.indication_id,
            region=state.region or None,
            step=str(state.step),
            weight_kg=float(weight) if weight else None,
            patient_facts=_signed_facts(row.case),
        )
        own = tuple(state.site_values)
        for change in changes(
            [case],
            on,
            catalog_before=current,
            values_before=values_in_force(register, site.slug, on, own),
            catalog_after=after,
            values_after=values_in_force(register_after, site.slug, on, own),
        ):
            found.append(change.to_dict())
    return found

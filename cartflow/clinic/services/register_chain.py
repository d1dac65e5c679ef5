"""Reading a site's register of signed protocol values: its chain checked, its entries from
their hashed bytes. A decision reads the register only through :func:`register_of`, so no
guard ever runs on an entry whose chain does not verify (signing and the pages are in
:mod:`cartflow.clinic.services.site_register`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from cartflow.clinic.models import Site, SiteRegisterEntry
from cartflow.clinic.services.errors import Conflict
from cartflow.domain.hashchain import GENESIS, PREV_KEY
from cartflow.domain.site_register import RegisterEntry

REGISTER_BROKEN = (
    "the register of signed protocol values of {site} does not verify ({reason}): nothing is "
    "decided on it; ask an auditor to run `cartflow audit verify`"
)


class RegisterBroken(Conflict):
    """The site's register does not verify: no decision is taken on it."""


@dataclass(frozen=True)
class ChainProblem:
    site: str
    seq: int
    reason: str


def register_rows(site_id: int) -> list[SiteRegisterEntry]:
    return list(SiteRegisterEntry.objects.filter(site_id=site_id).order_by("seq"))


COLUMNS = ("indication", "fact", "document_ref", "signer_role", "signer_name", "meaning")


def check_chain(site: Site, rows: Sequence[SiteRegisterEntry]) -> ChainProblem | None:
    """The first broken entry of the site's register chain (links, positions, the columns shown
    against the hashed bytes), or ``None``."""
    prev = GENESIS
    for index, row in enumerate(rows, start=1):
        raw = bytes(row.body)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        data = body.get("data") or {}
        signature = body.get("signature") or {}
        if (
            hashlib.sha256(raw).hexdigest() != row.hash
            or row.prev_hash != prev
            or body.get(PREV_KEY) != prev
            or body.get("site") != site.slug
            or body.get("seq") != row.seq
            or row.seq != index
        ):
            return ChainProblem(
                site.slug,
                row.seq,
                "the entry does not hash to its recorded hash or does not follow the entry "
                "before it (edited, removed or moved)",
            )
        shown = {
            "indication": data.get("indication"),
            "fact": data.get("fact"),
            "document_ref": data.get("document_ref"),
            "signer_role": data.get("signer_role"),
            "signer_name": signature.get("signer"),
            "meaning": signature.get("meaning"),
        }
        differ = [name for name in COLUMNS if getattr(row, name) != shown[name]]
        if row.effective_from.isoformat() != data.get("effective_from"):
            differ.append("effective_from")
        to = row.effective_to.isoformat() if row.effective_to else None
        if to != data.get("effective_to"):
            differ.append("effective_to")
        if differ:
            return ChainProblem(
                site.slug, row.seq, f"{', '.join(differ)} shown differ from the hashed bytes"
            )
        prev = row.hash
    return None


def entries_of(rows: Sequence[SiteRegisterEntry]) -> tuple[RegisterEntry, ...]:
    return tuple(
        RegisterEntry.from_data(json.loads(bytes(row.body))["data"], row.seq) for row in rows
    )


def register_of(site: Site | str) -> tuple[RegisterEntry, ...]:
    """Every entry of the site's register, read from its hashed bytes after checking them;
    :class:`RegisterBroken` when the chain does not verify; empty for an unknown site."""
    if isinstance(site, str):
        found = Site.objects.filter(slug=site).first()
        if found is None:
            return ()
        site = found
    rows = register_rows(site.pk)
    problem = check_chain(site, rows)
    if problem is not None:
        raise RegisterBroken(
            REGISTER_BROKEN.format(site=site.slug, reason=f"entry {problem.seq}: {problem.reason}")
        )
    return entries_of(rows)

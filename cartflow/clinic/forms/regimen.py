"""The lymphodepleting regimen field: a choice of the regimens the journey accepts for the case."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cartflow.clinic.case_state import case_state
from cartflow.clinic.code_words import catalog_text, code_words, source_words
from cartflow.clinic.forms.fields import Field
from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services.register_chain import register_of
from cartflow.domain.catalog import Catalog, FactStatus
from cartflow.domain.errors import DomainError
from cartflow.domain.journey.errors import FactMissing
from cartflow.domain.journey.regimens import regimens_for_case


def _days(count: Any) -> str:
    return ngettext("%(count)s day", "%(count)s days", int(count)) % {"count": count}


def regimen_summary(regimen: Mapping[str, Any]) -> str:
    """A regimen in words, e.g. ``flu-cy: fludarabine 25 mg/m2 x 3 days + cyclophosphamide
    250 mg/m2 x 3 days``; an alternative regimen ends with its "use when" note."""
    drugs = []
    for drug in regimen.get("drugs", ()):
        text = f"{code_words(drug['drug'])} {drug['mg_per_m2']:g} mg/m2 x {_days(drug['days'])}"
        if drug.get("on_days"):
            text += _(" (days %(days)s)") % {"days": ", ".join(str(d) for d in drug["on_days"])}
        drugs.append(text)
    words = f"{regimen['id']}: {' + '.join(drugs) or _('drugs not given')}"
    if regimen.get("use_when"):
        words += _("; alternative, use when %(when)s") % {"when": catalog_text(regimen["use_when"])}
    return words


REGIMEN = Field("regimen", _("Regimen"), help=_("the label regimen id, e.g. flu-cy or cy-flu"))


def regimen_field(case: TherapyCase, catalog: Catalog) -> dict[str, Field]:
    """The regimen as a choice of the regimens the journey accepts for this case, asked of the
    domain (:func:`~cartflow.domain.journey.regimens.regimens_for_case`, the guard's own
    resolution) for today. When the fact is unknown, the free-text field with the catalog's
    "not in the catalog" message (the form still posts, so the journey's refusal is shown
    beside it)."""
    try:
        state = case_state(case)
        register = register_of(state.site) if state.site else ()
        given = regimens_for_case(state, catalog, timezone.now(), register)
    except FactMissing as exc:
        return {REGIMEN.name: replace(REGIMEN, help=exc.rule)}
    except (DomainError, LookupError, TypeError, ValueError):
        return {}  # no indication to judge by: the plain field, the journey still refuses
    if not given.regimens:
        return {}
    whose = (
        _("the label's regimens for %(indication)s (%(source)s)")
        if given.fact.status is FactStatus.LABEL
        else _("the site protocol's regimens for %(indication)s (%(source)s)")
    )
    return {
        REGIMEN.name: replace(
            REGIMEN,
            kind="choice",
            help=whose
            % {"indication": state.indication_id, "source": source_words(given.fact.source)},
            choices=tuple((str(r["id"]), regimen_summary(r)) for r in given.regimens),
        )
    }

"""The site's register of signed protocol values: per product, what the catalog does not know
and what the site signed; a physician or quality reviewer of the site signs a value here.

The page signs through the same service as ``POST /api/sites/{site}/register`` and ``cartflow
register sign`` (``services/site_register.sign_entry``); it holds no rule of its own.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cartflow.clinic.services import site_register
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.errors import ServiceError
from cartflow.clinic.timeline_words import fact_value_words, label_words
from cartflow.clinic.views.common import guarded, refusal
from cartflow.clinic.worklist import product_words
from cartflow.domain.catalog import FactName
from cartflow.domain.errors import DomainError

EXAMPLES: dict[str, str] = {
    "age": '{"min": 18, "below": null}',
    "dose": '{"kind": "per_kg_range", "min_per_kg": 800000, "max_per_kg": 1200000}',
    "lymphodepletion": '[{"id": "flu-cy", "drugs": [{"drug": "fludarabine", "mg_per_m2": 30, '
    '"days": 3}, {"drug": "cyclophosphamide", "mg_per_m2": 300, "days": 3}]}]',
    "infusion_window_days": "[2, 14]",
    "storage_max_celsius": "-150",
    "post_thaw_minutes": "30",
    "monitoring_days": "28",
    "proximity_days": "28",
    "fludarabine_renal_adjustment": '{"unit": "mL/min/1.73 m2", "bands": [{"from": 0, '
    '"below": 30, "reduce_by_percent": 100}, {"from": 30, "below": 70, "reduce_by_percent": '
    '20}, {"from": 70, "below": null, "reduce_by_percent": 0}]}',
}
"""What a value looks like, per fact (docs/catalog.md, Fact names and value shapes)."""

FIELDS = (
    "indication",
    "fact",
    "value",
    "document_ref",
    "effective_from",
    "effective_to",
)


@login_required(login_url="login")
def register_index(request: HttpRequest) -> HttpResponse:
    """The sites whose register the user signs; one site opens its register directly."""
    sites = site_register.sites_to_sign(request.user)
    if not sites:
        raise PermissionDenied(_("only a physician or a quality reviewer signs protocol values"))
    if len(sites) == 1:
        return redirect("site_register", site=sites[0].slug)
    return render(request, "clinic/register_index.html", {"sites": sites})


def _day(text: str, what: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError(_("%(what)s: a date as YYYY-MM-DD") % {"what": what}) from None


def _value(text: str) -> Any:
    text = text.strip()
    if not text:
        raise DomainError(_("the value is required"))
    try:
        return json.loads(text)
    except ValueError:
        return text  # a word; the domain says what shape the fact needs


def _products(site: Any, on: date) -> list[dict[str, Any]]:
    zone = site.time_zone
    shown = []
    for product in site_register.overview(site, on):
        indications = []
        for item in product.indications:
            indications.append(
                {
                    "id": item.indication,
                    "title": item.title,
                    "regions": ", ".join(item.regions),
                    "unknown": [label_words(f) for f in item.unknown],
                    "open": [label_words(f) for f in item.open_facts],
                    "signed": [
                        {
                            "seq": s.seq,
                            "fact": label_words(s.fact),
                            "value": fact_value_words(s.fact, s.value, zone),
                            "raw": json.dumps(s.value),
                            "document_ref": s.document_ref,
                            "effective_from": s.effective_from,
                            "effective_to": s.effective_to,
                            "signer": s.signer_name,
                            "role": s.signer_role,
                            "in_force": s.in_force,
                            "superseded": s.superseded,
                        }
                        for s in item.signed
                    ],
                }
            )
        shown.append(
            {
                "name": product_words(product.product),
                "id": product.product,
                "indications": indications,
            }
        )
    return shown


@login_required(login_url="login")
@require_http_methods(["GET", "POST"])
@guarded
def register_page(request: HttpRequest, site: str) -> HttpResponse:
    found = site_register.get_site(site)
    if not site_register.may_sign(request.user, found):
        raise PermissionDenied(
            _("only a physician or a quality reviewer of this site signs its protocol values")
        )
    on = timezone.localdate()
    posted: dict[str, str] = {}
    problem = None
    if request.method == "POST":
        posted = {name: str(request.POST.get(name, ""))[:4000] for name in FIELDS}
        try:
            row = site_register.sign_entry(
                found,
                indication=posted["indication"],
                fact=posted["fact"],
                value=_value(posted["value"]),
                document_ref=posted["document_ref"],
                effective_from=_day(posted["effective_from"], _("first day in force")) or on,
                effective_to=_day(posted["effective_to"], _("last day")),
                acting_user=request.user,
                password=str(request.POST.get("password", "")),
                request_meta=RequestMeta.from_request(request),
                request=request,
            )
        except (DomainError, ServiceError) as exc:
            problem = refusal(exc)
        else:
            messages.success(
                request,
                _(
                    "Signed into the register of %(site)s: %(fact)s for %(product)s, in force "
                    "from %(start)s. Decisions at this site use it from that day."
                )
                % {
                    "site": found.name,
                    "fact": label_words(row.fact),
                    "product": product_words(row.indication.split("/", 1)[0]),
                    "start": row.effective_from.isoformat(),
                },
            )
            return redirect("site_register", site=found.slug)
    products = _products(found, on)
    choices = [(i["id"], f"{p['name']} · {i['title']}") for p in products for i in p["indications"]]
    context = {
        "site": found,
        "on": on,
        "products": products,
        "indication_choices": choices,
        "fact_choices": [(f.value, label_words(f.value)) for f in FactName],
        "examples": [(label_words(fact), text) for fact, text in EXAMPLES.items()],
        "posted": posted,
        "problem": problem,
    }
    return render(request, "clinic/register.html", context, status=422 if problem else 200)

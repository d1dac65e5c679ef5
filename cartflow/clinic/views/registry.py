"""The registry export of a treating site, for its quality reviewers and administrators: the
column dictionary, a date range, and the CSV (the same service as the API's)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cartflow.clinic import access
from cartflow.clinic.models import Site
from cartflow.clinic.registry import COLUMNS
from cartflow.clinic.services.registry_export import registry_csv
from cartflow.domain.roles import Action, SiteKind


def export_sites(user: Any) -> list[Site]:
    """The treating sites whose registry export ``user`` may download."""
    ids = access.sites_where(user, Action.EXPORT_REGISTRY)
    return list(Site.objects.filter(pk__in=ids, kind=SiteKind.TREATMENT_CENTER).order_by("name"))


def _site(request: HttpRequest, slug: str) -> Site:
    site = Site.objects.filter(slug=slug).first()
    if site is None:
        raise Http404(_("There is no such site."))
    if site.pk not in access.sites_where(request.user, Action.EXPORT_REGISTRY):
        raise PermissionDenied(_("The registry export is for the site's quality and admin roles."))
    return site


def _period(request: HttpRequest) -> tuple[date | None, date | None, dict[str, str]]:
    errors: dict[str, str] = {}
    found: dict[str, date | None] = {}
    for name in ("start", "end"):
        text = str(request.GET.get(name, "")).strip()
        found[name] = None
        if text:
            try:
                found[name] = date.fromisoformat(text)
            except ValueError:
                errors[name] = _("a date, e.g. 2026-03-01")
    start, end = found["start"], found["end"]
    if start and end and start > end:
        errors["end"] = _("on or after the first date")
    return start, end, errors


def _context(site: Site, request: HttpRequest, errors: dict[str, str]) -> dict[str, Any]:
    return {
        "site": site,
        "columns": COLUMNS,
        "start": request.GET.get("start", ""),
        "end": request.GET.get("end", ""),
        "errors": errors,
    }


@login_required(login_url="login")
@require_http_methods(["GET"])
def registry_page(request: HttpRequest, site: str) -> HttpResponse:
    found = _site(request, site)
    return render(request, "clinic/registry.html", _context(found, request, {}))


@login_required(login_url="login")
@require_http_methods(["GET"])
def registry_download(request: HttpRequest, site: str) -> HttpResponse:
    found = _site(request, site)
    start, end, errors = _period(request)
    if errors:
        return render(request, "clinic/registry.html", _context(found, request, errors), status=422)
    text = registry_csv(found, start, end)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    span = f"-{start or 'start'}-{end or 'today'}" if (start or end) else ""
    response["Content-Disposition"] = f'attachment; filename="registry-{found.slug}{span}.csv"'
    return response

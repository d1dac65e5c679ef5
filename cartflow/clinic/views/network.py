"""Pages beside the cases: the administrator's users and sites, and the catalog's sources."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cartflow.clinic import access
from cartflow.clinic.models import Membership, Site
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.machine import catalog
from cartflow.clinic.services.network import set_emergency_phone
from cartflow.clinic.views.registry import export_sites
from cartflow.clinic.worklist import ROLE_NAMES
from cartflow.domain.errors import DomainError
from cartflow.domain.roles import Action, Role


@login_required(login_url="login")
def network_page(request: HttpRequest) -> HttpResponse:
    administered = {
        site for site, _kind, role in access.memberships(request.user) if role == Role.ADMIN
    }
    if not administered:
        raise PermissionDenied(_("Only an administrator of a site sees its users."))
    sites = []
    registry_sites = export_sites(request.user)
    for site in Site.objects.filter(pk__in=administered).order_by("name"):
        people = [
            {
                "name": m.user.get_full_name() or m.user.get_username(),
                "username": m.user.get_username(),
                "role": ROLE_NAMES.get(Role(m.role), m.role),
                "active": m.user.is_active,
            }
            for m in Membership.objects.filter(site=site)
            .select_related("user")
            .order_by("role", "user__username")
        ]
        sites.append(
            {
                "site": site,
                "people": people,
                "may_manage": True,
                "registry": site in registry_sites,
            }
        )
    return render(request, "clinic/network.html", {"sites": sites})


@login_required(login_url="login")
@require_http_methods(["GET", "POST"])
def site_settings(request: HttpRequest, site: str) -> HttpResponse:
    """A site's 24-hour number, kept by its administrator: shown, and changed by
    :func:`set_emergency_phone` (audited, the number replaced kept in the audit row)."""
    found = Site.objects.filter(slug=site).first()
    if found is None:
        raise Http404(_("There is no such site."))
    if found.pk not in access.sites_where(request.user, Action.MANAGE_SITE):
        raise PermissionDenied(_("Only an administrator of this site may change its number."))
    error = ""
    value = found.emergency_phone
    if request.method == "POST" and "emergency_phone" not in request.POST:
        # a post without the box (not the form's) changes nothing
        error = _("Enter the number in the box, or empty the box to clear it.")
    elif request.method == "POST":
        value = str(request.POST.get("emergency_phone", "")).strip()
        try:
            saved = set_emergency_phone(
                found,
                value,
                acting_user=request.user,
                request_meta=RequestMeta.from_request(request),
            )
        except DomainError as exc:
            error = str(exc)
        else:
            if saved.emergency_phone:
                done = _("Saved: the 24-hour number of %(site)s is now %(phone)s.") % {
                    "site": saved.name,
                    "phone": saved.emergency_phone,
                }
            else:
                done = _(
                    "Saved: %(site)s has no 24-hour number now; the patient view asks the "
                    "family to ask their care team for it."
                ) % {"site": saved.name}
            messages.success(request, done)
            return redirect("site_settings", site=saved.slug)
    return render(
        request,
        "clinic/site_settings.html",
        {"site": found, "value": value, "error": error},
        status=422 if error else 200,
    )


@login_required(login_url="login")
def sources_page(request: HttpRequest) -> HttpResponse:
    """The catalog's source list, each with an anchor a refusal's "[8]" links to."""
    rows = []
    for key, text in sorted(
        catalog().sources.items(), key=lambda kv: (not kv[0].isdigit(), kv[0].zfill(4))
    ):
        # An address is shown as an identifier; the words after it as prose.
        where, _sep, about = str(text).partition(" (")
        rows.append((key, where, about.removesuffix(")")))
    return render(request, "clinic/sources.html", {"sources": rows, "version": catalog().version})

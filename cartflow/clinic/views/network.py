"""Pages beside the cases: the administrator's users and sites, and the catalog's sources."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from cartflow.clinic import access
from cartflow.clinic.models import Membership, Site
from cartflow.clinic.services.machine import catalog
from cartflow.clinic.worklist import ROLE_NAMES
from cartflow.domain.roles import Role


@login_required(login_url="login")
def network_page(request: HttpRequest) -> HttpResponse:
    administered = {
        site for site, _kind, role in access.memberships(request.user) if role == Role.ADMIN
    }
    if not administered:
        raise PermissionDenied(_("Only an administrator of a site sees its users."))
    sites = []
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
        sites.append({"site": site, "people": people})
    return render(request, "clinic/network.html", {"sites": sites})


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

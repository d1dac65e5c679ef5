"""Which time zone a site's or a case's times are shown and read in (the pages, the forms and
the template filters ask the same two functions)."""

from __future__ import annotations

from typing import Any

DEFAULT_ZONE = "UTC"


def zone_name(where: Any) -> str:
    """The IANA zone of ``where``: a zone name, a site, a case (its treating site) or None."""
    if where is None or where == "":
        return DEFAULT_ZONE
    if isinstance(where, str):
        return where
    if hasattr(where, "time_zone"):
        return str(where.time_zone or DEFAULT_ZONE)
    site = getattr(where, "treating_site", None)
    if site is not None:
        return str(site.time_zone or DEFAULT_ZONE)
    return DEFAULT_ZONE


def case_zone(case: Any) -> str:
    """The time zone a case's times are shown and read in: its treating site's."""
    return zone_name(case)

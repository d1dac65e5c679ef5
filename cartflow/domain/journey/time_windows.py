"""Time in the site's calendar: the one definition every window check uses.

Label windows ("infuse 2 to 14 days after lymphodepletion") count *calendar days at the site*:
the day lymphodepletion ends is day 0, the next local calendar day is day 1, whatever the hour.
:func:`local_days_between` is that count and is the only way a window is measured.
Minute limits (the post-thaw limit) are elapsed time, measured by :func:`minutes_between`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cartflow.domain.errors import InvalidInput


def site_zone(name: str) -> ZoneInfo:
    """The site's IANA time zone, e.g. ``Europe/Zurich``; :class:`InvalidInput` if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InvalidInput(
            f"unknown time zone {name!r}: give the site's IANA zone, e.g. Europe/Zurich"
        ) from exc


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The site's calendar date at ``moment`` (an aware datetime)."""
    return moment.astimezone(tz).date()


def local_days_between(a: datetime, b: datetime, tz: ZoneInfo) -> int:
    """Calendar days at the site from ``a``'s date to ``b``'s date (negative if ``b`` is earlier).

    23:59 on Monday to 00:01 on Tuesday is 1 day; 00:01 to 23:59 on the same day is 0.
    """
    return (local_date(b, tz) - local_date(a, tz)).days


def minutes_between(a: datetime, b: datetime) -> float:
    """Elapsed minutes from ``a`` to ``b`` (both aware)."""
    return (b - a).total_seconds() / 60.0


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def day_window(
    start: datetime, low: int, high: int | None, at: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    """A window of site calendar days after ``start`` (day 0), as the rule's parameters: the
    day ``at`` falls on, the start's date, and the first and last days allowed (ISO dates).
    A guard checks ``min_days <= day <= max_days``; the pages show the dates."""
    start_on = local_date(start, tz)
    found: dict[str, Any] = {
        "min_days": low,
        "day": local_days_between(start, at, tz),
        "start": start_on.isoformat(),
        "earliest": (start_on + timedelta(days=low)).isoformat(),
    }
    if high is not None:
        found["max_days"] = high
        found["latest"] = (start_on + timedelta(days=high)).isoformat()
    return found

"""What the pages share: access, the user's roles on a case, and refusals in words."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartflow.clinic import access
from cartflow.clinic.refusal_words import (
    DATE_PARAMS,
    TIME_PARAMS,
    attempted_words,
    kind_words,
    refusal_text,
)
from cartflow.clinic.services import second_factor
from cartflow.clinic.services.errors import Conflict, NotFound, SignatureRefused
from cartflow.domain.catalog import RuleKind
from cartflow.domain.errors import DomainError
from cartflow.domain.journey import FactMissing, JourneyError, ScanMismatch
from cartflow.domain.roles import Action, Role, can

CONFLICT_MESSAGE = gettext_lazy(
    "Someone else saved this case a moment ago, so nothing was recorded. "
    "Reload the page to see their change, then try again."
)


def guarded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer a record the user may not see with 404 and one they may not act on with 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404("not found") from None
        except access.Forbidden:
            raise PermissionDenied(_("you hold no role that may do this here")) from None

    return wrapper


def case_roles(user: Any, case: Any) -> set[Role]:
    return access.roles_on_case(user, case)


def may(roles: set[Role], action: Action | str) -> bool:
    return any(can(role, action) for role in roles)


def require_anywhere(user: Any, action: Action) -> None:
    if not access.can_anywhere(user, action):
        raise PermissionDenied(_("you hold no role that may do this"))


def _unblock(exc: JourneyError) -> str:
    if isinstance(exc, ScanMismatch):
        return _(
            "Scan the labels of this case's own patient, collection and bags. If the right "
            "labels do not match, stop and call quality."
        )
    if isinstance(exc, FactMissing):
        return _(
            "A site protocol value for the missing fact, signed by a physician or a quality "
            "reviewer, or the fact added to the product catalog."
        )
    if exc.rule_id.startswith("deviation."):
        return _("Review a deviation that is still open; a review is never replaced.")
    if set(exc.params) & (DATE_PARAMS | TIME_PARAMS):
        # The rule's own words say when it opens: the dates are in the sentence above.
        return _("Recording it on the date the rule above names.")
    if exc.kind == RuleKind.SITE_POLICY:
        return _("Meeting the site's policy, or a change of the policy document named above.")
    return _(
        "Meeting the rule above (for a timing rule: recording at the right time), or, where the "
        "label allows one, a signed exception."
    )


def refusal(exc: Exception) -> dict[str, str]:
    """A refused write in words for the page: what refused it, where the rule comes from,
    whether it is the label or the site's policy, and what would unblock it."""
    if isinstance(exc, JourneyError):
        return {
            "title": _("Blocked by a rule"),
            "rule": refusal_text(exc),
            "source": exc.source,
            "kind": kind_words(exc.kind),
            "step": str(exc.state),
            "attempted": attempted_words(exc.attempted),
            "unblock": _unblock(exc),
            "rule_id": exc.rule_id,
        }
    if isinstance(exc, Conflict):
        return {"title": _("Not saved"), "rule": str(CONFLICT_MESSAGE), "conflict": "yes"}
    if isinstance(exc, SignatureRefused):
        return {
            "title": _("Not signed"),
            "rule": str(exc),
            "unblock": _("Enter your own password."),
        }
    if isinstance(exc, DomainError):
        return {"title": _("Not recorded"), "rule": str(exc)}
    return {"title": _("Not recorded"), "rule": _("the input was not accepted")}


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Which of the main pages the signed-in user may open (a context processor)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = access.roles_anywhere(user)
    return {
        "nav_queue": bool(roles - {Role.ADMIN, Role.AUDITOR}),
        "nav_network": Role.ADMIN in roles,
        "nav_patients": access.can_anywhere(user, Action.VIEW_PATIENT),
        "nav_quality": access.can_anywhere(user, Action.DECIDE_QUARANTINE),
        "nav_audit": access.can_anywhere(user, Action.VERIFY_AUDIT),
        "nav_capacity": access.can_anywhere(user, Action.VIEW_CAPACITY),
        # Physicians and quality reviewers sign their sites' protocol values.
        "nav_register": bool(roles & {Role.PHYSICIAN, Role.QUALITY}),
        # A signing form asks for an authenticator code too (services/second_factor.py);
        # looked up only by a page that shows a signing form.
        "signs_with_code": SimpleLazyObject(lambda: second_factor.needs_code(user)),
    }


def acknowledge(request: HttpRequest, case: Any, done: str) -> None:
    """Say what was recorded, what the case waits for now, and who does it (a message on the
    next page)."""
    from django.contrib import messages

    from cartflow.clinic.case_state import case_state
    from cartflow.clinic.worklist import ROLE_WORDS, waiting_words, waits_on

    case.refresh_from_db()
    state = case_state(case)
    waiting = waiting_words(state)
    who = ", ".join(str(ROLE_WORDS[r]) for r in waits_on(state))
    if not waiting:
        text = _("%(done)s. The case is closed.") % {"done": done}
    elif who:
        text = _("%(done)s. Next: %(waiting)s, by %(who)s.") % {
            "done": done,
            "waiting": waiting,
            "who": who,
        }
    else:
        text = _("%(done)s. Next: %(waiting)s.") % {"done": done, "waiting": waiting}
    messages.success(request, text)

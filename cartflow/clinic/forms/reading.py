"""Reading a submitted form: its values in the site's time zone, validated by the operation's
schema, its errors in plain words."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ValidationError

from cartflow.clinic.api.schemas import steps as steps_schemas
from cartflow.clinic.forms.fields import Field, Operation
from cartflow.clinic.models import TherapyCase
from cartflow.clinic.site_zones import case_zone


class FormErrors(Exception):
    """The form's input did not validate: a message per field (``""`` for the whole form)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k or 'form'}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def local_datetime(text: str, zone: str) -> str:
    """A ``datetime-local`` value (no zone) read in the site's time zone, as ISO 8601."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zoneinfo.ZoneInfo(zone or "UTC"))
    return value.isoformat()


def _split(text: Any) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", str(text or "")) if part]


def _value(f: Field, raw: str, zone: str) -> Any:
    if f.kind == "yesno":
        lowered = raw.lower()
        if lowered in {"yes", "true", "on", "1"}:
            return True
        if lowered in {"no", "false", "off", "0"}:
            return False
        return raw
    if f.kind == "list":
        return _split(raw)
    if f.kind == "datetime":
        try:
            return local_datetime(raw, zone)
        except ValueError:
            raise FormErrors({f.name: _("a date and time, e.g. 2026-03-01T14:30")}) from None
    return raw


def parse(op: Operation, data: QueryDict | Mapping[str, Any], case: TherapyCase) -> BaseModel:
    """Validate the posted form with the operation's schema; :class:`FormErrors` if wrong."""
    zone = case_zone(case)
    values: dict[str, Any] = {}
    fields = list(op.fields)
    if op.clinical_time:
        fields.append(Field("occurred_at", _("Clinical time"), "datetime", required=False))
    for f in fields:
        if f.kind == "multi":
            chosen = data.getlist(f.name) if isinstance(data, QueryDict) else data.get(f.name)
            if isinstance(chosen, str):
                chosen = _split(chosen)
            values[f.name] = [str(c).strip() for c in chosen or () if str(c).strip()]
            continue
        raw = str(data.get(f.name, "") or "").strip()
        if raw == "":
            if f.required and f.kind != "list":
                values[f.name] = None  # let the schema name the missing field
            continue
        values[f.name] = _value(f, raw, zone)
    if op.schema in (steps_schemas.ReleaseIn, steps_schemas.OutOfSpecificationIn):
        bag = {"bag_id": values.pop("bag_id", None), "lot": values.pop("lot", None)}
        if values.get("expires_at") is not None:
            bag["expires_at"] = values.pop("expires_at")
        values.pop("expires_at", None)
        values["bags"] = [bag]
    version = str(data.get("expected_version", "") or "").strip()
    if version:
        values["expected_version"] = version
    if op.signed:
        values["password"] = str(data.get("password", "") or "")
        if not values["password"]:
            raise FormErrors({"password": _("enter your password again to sign")})
    values = {k: v for k, v in values.items() if v is not None or k in _required(op)}
    try:
        return op.schema.model_validate(values)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            loc = [str(part) for part in error.get("loc", ())]
            name = loc[0] if loc else ""
            if name == "bags" and loc:
                name = loc[-1] if loc[-1] in {"bag_id", "lot", "expires_at"} else "bag_id"
            errors.setdefault(name, plain_message(error))
        raise FormErrors(errors) from None


def _required(op: Operation) -> set[str]:
    return {f.name for f in op.fields if f.required}


PLAIN: dict[str, Any] = {
    "float_parsing": _("a number, e.g. 72.5"),
    "float_type": _("a number, e.g. 72.5"),
    "int_parsing": _("a whole number, e.g. 3"),
    "int_type": _("a whole number, e.g. 3"),
    "int_from_float": _("a whole number, e.g. 3"),
    "bool_parsing": _("yes or no"),
    "uuid_parsing": _("choose one from the list"),
    "uuid_type": _("choose one from the list"),
    "datetime_parsing": _("a date and time, e.g. 2026-03-01 14:30"),
    "datetime_from_date_parsing": _("a date and time, e.g. 2026-03-01 14:30"),
    "date_parsing": _("a date, e.g. 2026-03-01"),
    "date_from_datetime_parsing": _("a date, e.g. 2026-03-01"),
    "string_pattern_mismatch": _("not in the expected form"),
    "string_too_short": _("too short"),
}


def plain_message(error: Mapping[str, Any]) -> str:
    """A validation error in plain words, not the validation library's own ("Input should
    be ...")."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing" or error.get("input") in (None, ""):
        return str(_("this field is required"))
    if kind in PLAIN:
        return str(PLAIN[kind])
    if kind in ("greater_than", "greater_than_equal"):
        return _("at least %(limit)s") % {"limit": ctx.get("gt", ctx.get("ge"))}
    if kind in ("less_than", "less_than_equal"):
        return _("at most %(limit)s") % {"limit": ctx.get("lt", ctx.get("le"))}
    if kind == "string_too_long":
        return _("at most %(count)s characters") % {"count": ctx.get("max_length")}
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", _("the choices offered"))).replace("'", "")
        return _("choose one of: %(choices)s") % {"choices": expected}
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")

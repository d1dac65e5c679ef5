"""Personas, sites and a synthetic patient; every name here is obviously made up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from django.db import connection

from cartflow.clinic import services
from cartflow.clinic.models import Event, Patient, Site, TherapyCase
from cartflow.clinic.services.append import AppendResult
from cartflow.clinic.triggers import create_statements, drop_statements
from tests.clinic.toy import TOY, AddNote

PASSWORD = "correct horse battery staple 17"
APPEND_ONLY_TABLES = ("clinic_event", "clinic_ledgerentry", "clinic_auditrow", "clinic_signature")


@pytest.fixture
def admin_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(
        "admin-ada", password=PASSWORD, first_name="Test", last_name="Admin"
    )


@pytest.fixture
def center(admin_user: Any) -> Site:
    return services.create_site(
        "test-center-north",
        "Test Center North",
        "treatment_center",
        time_zone="Europe/Berlin",
        facility_code="W1234",
        acting_user=admin_user,
    )


@pytest.fixture
def other_center(admin_user: Any) -> Site:
    return services.create_site(
        "test-center-south",
        "Test Center South",
        "treatment_center",
        time_zone="America/Chicago",
        facility_code="X9876",
        acting_user=admin_user,
    )


@pytest.fixture
def manufacturer(admin_user: Any) -> Site:
    return services.create_site(
        "test-manufacturer",
        "Test Manufacturing Site",
        "manufacturing_site",
        time_zone="America/New_York",
        acting_user=admin_user,
    )


def _persona(model: Any, username: str, last: str, site: Site, role: str, admin: Any) -> Any:
    user = model.objects.create_user(username, password=PASSWORD, first_name="Test", last_name=last)
    services.grant_role(user, site, role, acting_user=admin)
    return user


@pytest.fixture
def physician(django_user_model: Any, center: Site, admin_user: Any) -> Any:
    return _persona(django_user_model, "dr-phoebe", "Physician", center, "physician", admin_user)


@pytest.fixture
def coordinator(django_user_model: Any, center: Site, admin_user: Any) -> Any:
    return _persona(
        django_user_model, "coordinator-cora", "Coordinator", center, "coordinator", admin_user
    )


@pytest.fixture
def auditor(django_user_model: Any, center: Site, admin_user: Any) -> Any:
    return _persona(django_user_model, "auditor-aldo", "Auditor", center, "auditor", admin_user)


@pytest.fixture
def patient(center: Site, coordinator: Any) -> Patient:
    return services.register_patient(
        center,
        record_number="TEST-MRN-0017",
        given_name="Patient-017",
        family_name="Test",
        birth_date=date(1970, 1, 1),
        acting_user=coordinator,
    )


def open_toy_case(patient: Patient, user: Any, text: str = "referred") -> AppendResult:
    return services.open_case(patient, AddNote(text), acting_user=user, machine=TOY)


@pytest.fixture
def case(db: None, patient: Patient, physician: Any) -> TherapyCase:
    return open_toy_case(patient, physician).case


@contextmanager
def columns_made_plain(*names: str, model: Any = Event) -> Iterator[None]:
    """Turn generated columns (of events, or of ``model``'s table) into plain ones that an
    UPDATE may write, as someone able to change the table's definition could (PostgreSQL:
    ``DROP EXPRESSION``; SQLite, which cannot alter a column: the table copied into a plain
    one that takes its name), with the triggers dropped. Inside the test's transaction, it
    is all rolled back."""
    table = model._meta.db_table
    with triggers_dropped(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test's own inserts leave deferred foreign-key checks pending on the table,
            # which an ALTER TABLE may not overtake.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for name in names:
                cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {name} DROP EXPRESSION")
        else:
            fields = [f for f in model._meta.concrete_fields if not f.primary_key]
            columns = ", ".join(f.column for f in fields)
            definitions = ", ".join(f"{f.column} {f.db_type(connection)}" for f in fields)
            cursor.execute(f"CREATE TABLE {table}_plain (id integer PRIMARY KEY, {definitions})")
            cursor.execute(
                f"INSERT INTO {table}_plain (id, {columns}) SELECT id, {columns} FROM {table}"
            )
            cursor.execute(f"DROP TABLE {table}")
            cursor.execute(f"ALTER TABLE {table}_plain RENAME TO {table}")
        yield


@contextmanager
def triggers_dropped() -> Iterator[None]:
    """Drop the append-only triggers (to tamper as a database administrator could), then
    put them back. Inside the test's transaction, the drop is rolled back anyway."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for statement in drop_statements(vendor, APPEND_ONLY_TABLES):
            cursor.execute(statement)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for statement in create_statements(vendor, APPEND_ONLY_TABLES):
                cursor.execute(statement)

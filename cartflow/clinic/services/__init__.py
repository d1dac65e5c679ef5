"""The write path: one function per operation, each one transaction with one audit row.

Import the operations from here; ``append`` is the core they share.
"""

from cartflow.clinic.services.append import (
    AppendRequest,
    AppendResult,
    SignatureIntent,
    append,
)
from cartflow.clinic.services.audit import (
    rebuild_all,
    rebuild_projection,
    replay,
    verify_case,
    verify_ledger,
)
from cartflow.clinic.services.cases import open_case
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.errors import Conflict, NotFound, ServiceError, SignatureRefused
from cartflow.clinic.services.network import create_site, grant_role, register_patient
from cartflow.clinic.services.signatures import Meaning, sign, verify_signature
from cartflow.clinic.services.slots import book_slot, open_slot
from cartflow.clinic.services.tokens import issue_token, revoke_token, user_for_token

__all__ = [
    "AppendRequest",
    "AppendResult",
    "Conflict",
    "Meaning",
    "NotFound",
    "RequestMeta",
    "ServiceError",
    "SignatureIntent",
    "SignatureRefused",
    "append",
    "book_slot",
    "create_site",
    "grant_role",
    "issue_token",
    "open_case",
    "open_slot",
    "rebuild_all",
    "rebuild_projection",
    "register_patient",
    "replay",
    "revoke_token",
    "sign",
    "user_for_token",
    "verify_case",
    "verify_ledger",
    "verify_signature",
]

"""ISBT 128 messages carried by a label's barcodes.

- The Code 128 symbol carries one data structure: the DIN-structured identifier with its
  flags, ``=G12349865432177`` (:attr:`cartflow.domain.identifiers.Din.barcode`).
- The DataMatrix carries ISBT 128's own compound message (Data Structure 023, not GS1):
  ``=+`` then two digits for how many data structures follow and three for the compound
  message's identification number (``000``: no sequence registered with ICCBBA), then the
  data structures one after another, each with its own data identifier.

A data structure begins with ``=`` or ``&`` and a second character; the structures this module
writes and reads are the DIN (``=`` and a facility letter) and the expiration date and time
(``&>``, Data Structure 005: ``cyyjjjhhmm``). Each structure's length is known from its
identifier, so a compound message splits without separators.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from cartflow.domain.errors import InvalidInput
from cartflow.domain.identifiers import BARCODE_LENGTH, Din

COMPOUND_PREFIX: Final = "=+"
UNSPECIFIED_SEQUENCE: Final = "000"
EXPIRY_PREFIX: Final = "&>"
EXPIRY_LENGTH: Final = len(EXPIRY_PREFIX) + 10


def expiry_structure(expires_at: datetime) -> str:
    """Data Structure 005: ``&>`` + century digit, year, day of year, hour and minute."""
    return (
        f"{EXPIRY_PREFIX}{expires_at.year // 100 % 10}{expires_at:%y}"
        f"{expires_at.timetuple().tm_yday:03d}{expires_at:%H%M}"
    )


def compound_message(din: Din, expires_at: datetime | None = None) -> str:
    """The compound message of a label: the identifier, then its expiry where known."""
    structures = [din.barcode]
    if expires_at is not None:
        structures.append(expiry_structure(expires_at))
    return f"{COMPOUND_PREFIX}{len(structures):02d}{UNSPECIFIED_SEQUENCE}" + "".join(structures)


def split_compound_message(text: str) -> list[str]:
    """The data structures of a compound message, in order; InvalidInput if it is not one."""
    if not text.startswith(COMPOUND_PREFIX) or len(text) < 7 or not text[2:7].isdigit():
        raise InvalidInput("not an ISBT 128 compound message (=+ and five digits)")
    count = int(text[2:4])
    rest = text[7:]
    structures = []
    while rest:
        if rest.startswith(EXPIRY_PREFIX):
            size = EXPIRY_LENGTH
        elif rest.startswith("=") and len(rest) >= 2 and rest[1].isalpha():
            size = BARCODE_LENGTH
        else:
            raise InvalidInput(f"unknown ISBT 128 data structure at {rest[:2]!r}")
        if len(rest) < size:
            raise InvalidInput("a data structure of the compound message is cut short")
        structures.append(rest[:size])
        rest = rest[size:]
    if len(structures) != count:
        raise InvalidInput(
            f"the compound message announces {count} data structure(s) and holds {len(structures)}"
        )
    return structures

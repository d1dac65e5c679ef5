"""Chain-of-identity identifiers, collection DINs and product bag labels.

A case's chain-of-identity identifier, and the identifier of each collection, use the
structure of the ISBT 128 Donation Identification Number (DIN, Data Structure 001;
reference: platforms.md section 3.1):

- a 5-character facility code (FIN): a letter, then four letters or digits;
- a 2-digit year;
- a 6-digit sequence number;
- an ISO 7064 Mod 37-2 check character over those 13 characters (0-9, A-Z or ``*``).

The same identifier is written three ways:

- eye-readable, grouped as facility, year, sequence and check character, separated by single
  spaces: ``G1234 98 654321 H`` (ISBT 128 labels print the check character in a box beside
  the number; the grouping follows the data structure's own parts);
- compact, without spaces: ``G123498654321H``;
- as scanned from an ISBT 128 barcode: ``=`` + the 13 characters + 2 flag characters. Flags
  ``60`` to ``96`` carry the check character's value (0-36) plus 60 (``=G12349865432177``)
  and must match it. Flags ``00`` mean "no flag", as real labels print them
  (``=G12349865432100``): the Code 128 symbol carries its own check, so the scan was read as
  printed, but nothing checks the number itself against a typing error when it was printed.
  Any other flag value is refused, with a message that names it.

Two readers, for two uses:

- :func:`parse_scan` reads every form and says whether the number was *checked*
  (``Scan.checked`` is false for a flag-00 barcode). Matching a scan against an identifier
  already registered uses it (:func:`identifiers_match`), so a flag-00 label matches.
- :func:`parse_identifier` is for registering a new identifier (a referral's chain of
  identity, a collection's DIN) and for anything else that takes a number on trust: it refuses
  a flag-00 scan, so no identifier is ever registered without a check character.

The check character itself comes from ``stdnum.iso7064.mod_37_2``.

A product bag is identified by the manufacturer's own identifier and lot: free-form, so they
are only checked to be non-empty, bounded and printable (:class:`BagLabel`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.iso7064 import mod_37_2

from cartflow.domain.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
"""The Mod 37-2 alphabet: a character's value is its index (0-9, A-Z = 10-35, ``*`` = 36)."""

FLAG_OFFSET = 60
"""A barcode flag pair carries the check character's value plus 60 (60 to 96)."""

NO_FLAG = "00"
"""ISBT 128's "no flag": the pair carries no check character."""

DATA_LENGTH = 13
EYE_LENGTH = DATA_LENGTH + 1
BARCODE_LENGTH = 1 + DATA_LENGTH + 2

EXPECTED = (
    "a chain-of-identity identifier is 5 facility characters (a letter, then 4 letters or "
    "digits), a 2-digit year, a 6-digit sequence and a check character, e.g. "
    "G1234 98 654321 H, or its ISBT 128 barcode =G12349865432177"
)

_FACILITY = re.compile(r"[A-Z][A-Z0-9]{4}")
_DIGITS = re.compile(r"[0-9]+")
_WHITESPACE = re.compile(r"[ \t]+")

BAG_FIELD_MAX = 64
"""The longest manufacturer bag identifier or lot accepted, in characters."""


def _check_facility(facility: str) -> None:
    if not (len(facility) == 5 and _FACILITY.fullmatch(facility)):
        raise InvalidInput(
            "the facility code must be 5 characters: a letter, then 4 letters or digits "
            "(e.g. G1234)"
        )


def check_character(data: str) -> str:
    """The ISO 7064 Mod 37-2 check character over the 13 characters of an identifier."""
    if len(data) != DATA_LENGTH or any(c not in ALPHABET[:36] for c in data):
        raise InvalidInput(
            "the check character is computed over exactly 13 letters or digits "
            "(facility code, year, sequence)"
        )
    return str(mod_37_2.calc_check_digit(data))


@dataclass(frozen=True)
class Din:
    """A DIN-structured identifier: a case's chain of identity, or one collection's DIN.

    ``facility`` is normalised to upper case; ``year`` is 0-99 and ``sequence`` 0-999999.
    """

    facility: str
    year: int
    sequence: int

    def __post_init__(self) -> None:
        if not isinstance(self.facility, str):
            raise InvalidInput("the facility code must be text: a letter, then 4 letters or digits")
        object.__setattr__(self, "facility", self.facility.strip().upper())
        _check_facility(self.facility)
        year = self.year
        if isinstance(year, bool) or not isinstance(year, int) or not 0 <= year <= 99:
            raise InvalidInput("the year must be 2 digits, 00 to 99")
        if (
            isinstance(self.sequence, bool)
            or not isinstance(self.sequence, int)
            or not 0 <= self.sequence <= 999_999
        ):
            raise InvalidInput("the sequence must be 6 digits, 000000 to 999999")

    @property
    def data(self) -> str:
        """The 13 characters the check character is computed over: ``G123498654321``."""
        return f"{self.facility}{self.year:02d}{self.sequence:06d}"

    @property
    def check_character(self) -> str:
        """The ISO 7064 Mod 37-2 check character (0-9, A-Z or ``*``)."""
        return check_character(self.data)

    @property
    def check_value(self) -> int:
        """The check character's value, 0 to 36."""
        return ALPHABET.index(self.check_character)

    @property
    def flags(self) -> str:
        """The two barcode flag characters: the check value plus 60 (``60`` to ``96``)."""
        return f"{self.check_value + FLAG_OFFSET:02d}"

    @property
    def compact(self) -> str:
        """``G123498654321H``."""
        return self.data + self.check_character

    @property
    def eye_readable(self) -> str:
        """``G1234 98 654321 H``: facility, year, sequence, check character."""
        return f"{self.facility} {self.year:02d} {self.sequence:06d} {self.check_character}"

    @property
    def barcode(self) -> str:
        """The ISBT 128 barcode content: ``=G12349865432177``."""
        return f"={self.data}{self.flags}"

    def __str__(self) -> str:
        return self.eye_readable


def new_identifier(facility: str, year: int, sequence: int) -> Din:
    """A new identifier; the caller chooses a sequence that is unique for the facility and year."""
    return Din(facility, year, sequence)


def _parse_data(data: str) -> Din:
    """The identifier from its 13 data characters (already upper case, length checked)."""
    _check_facility(data[:5])
    if not _DIGITS.fullmatch(data[5:7]):
        raise InvalidInput(f"the year (characters 6-7) must be 2 digits; {EXPECTED}")
    if not _DIGITS.fullmatch(data[7:13]):
        raise InvalidInput(f"the sequence (characters 8-13) must be 6 digits; {EXPECTED}")
    return Din(data[:5], int(data[5:7]), int(data[7:13]))


@dataclass(frozen=True)
class Scan:
    """An identifier as read, and whether a check character vouched for its number.

    ``checked`` is false only for a flag-00 barcode: such a scan may match an identifier
    already registered, but never registers a new one.
    """

    din: Din
    checked: bool


def _parse_barcode(text: str) -> Scan:
    if len(text) != BARCODE_LENGTH:
        raise InvalidInput(
            f"an ISBT 128 barcode scan has 16 characters ('=', 13 characters and 2 flag "
            f"digits), this one has {len(text)}; {EXPECTED}"
        )
    din = _parse_data(text[1:14])
    flags = text[14:]
    if flags == NO_FLAG:
        return Scan(din, checked=False)
    if not _DIGITS.fullmatch(flags) or not FLAG_OFFSET <= int(flags) <= FLAG_OFFSET + 36:
        raise InvalidInput(
            f"the barcode's flag characters {flags!r} are not accepted: a chain-of-identity "
            "barcode carries 00 (no flag) or 60 to 96 (the check character's value plus 60)"
        )
    if int(flags) != din.check_value + FLAG_OFFSET:
        raise InvalidInput(
            "the barcode's flag characters do not match the identifier: the scan is damaged "
            "or the number was altered; rescan the label"
        )
    return Scan(din, checked=True)


def parse_scan(text: str) -> Scan:
    """Read an identifier in any written form, to match it against one already registered.

    Accepted: the eye-readable form with or without spaces (``G1234 98 654321 H``,
    ``G123498654321H``; any grouping, any case) and the scanned ISBT 128 barcode, with flags
    60-96 verified against the number (``=G12349865432177``) or flags 00, "no flag"
    (``=G12349865432100``, read as unchecked). Surrounding whitespace is ignored.
    Raises :class:`InvalidInput` saying what was wrong and what is accepted; a wrong check
    character is reported as not matching, without revealing the expected one.
    """
    if not isinstance(text, str):
        raise InvalidInput(EXPECTED)
    text = text.strip().upper()
    if not text:
        raise InvalidInput(f"the identifier is empty; {EXPECTED}")
    if text.startswith("="):
        return _parse_barcode(text)
    compact = _WHITESPACE.sub("", text)
    if len(compact) != EYE_LENGTH:
        raise InvalidInput(
            f"the identifier has {len(compact)} characters without spaces, 14 are expected; "
            f"{EXPECTED}"
        )
    if any(c not in ALPHABET for c in compact):
        raise InvalidInput(
            f"the identifier may hold only letters, digits and, as check character, '*'; {EXPECTED}"
        )
    din = _parse_data(compact[:DATA_LENGTH])
    if compact[DATA_LENGTH] != din.check_character:
        raise InvalidInput(
            "the check character does not match the rest of the identifier: a character was "
            "mistyped or misread; re-enter it from the label or scan the barcode"
        )
    return Scan(din, checked=True)


def parse_identifier(text: str) -> Din:
    """Read an identifier that is taken on trust, e.g. to register it: every form
    :func:`parse_scan` reads except a flag-00 barcode, which carries no check character."""
    scan = parse_scan(text)
    if not scan.checked:
        raise InvalidInput(
            "the barcode's flag characters are 00 (no flag): they carry no check character, "
            "so the scan can match an identifier already registered but cannot register a new "
            "one; type the identifier with its check character (e.g. G1234 98 654321 H) or "
            "scan a barcode whose flags carry it (60 to 96)"
        )
    return scan.din


def identifiers_match(scanned_text: str, expected: Din) -> bool:
    """Whether a scanned or typed identifier is valid and names ``expected``; a flag-00
    barcode counts, its symbol's own check having vouched for the read."""
    try:
        return parse_scan(scanned_text).din == expected
    except InvalidInput:
        return False


def _check_bag_field(name: str, value: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"the bag's {name} must be text")
    value = value.strip()
    if not value:
        raise InvalidInput(f"the bag's {name} is empty; it is required, as printed on the bag")
    if len(value) > BAG_FIELD_MAX:
        raise InvalidInput(
            f"the bag's {name} has {len(value)} characters; at most {BAG_FIELD_MAX} are accepted"
        )
    if not all(" " <= c <= "~" for c in value):
        raise InvalidInput(
            f"the bag's {name} may hold only printable ASCII characters (letters, digits, "
            "spaces and punctuation)"
        )
    return value


@dataclass(frozen=True)
class BagLabel:
    """A product bag: the manufacturer's bag identifier and lot, as printed on the bag.

    Both are free-form (each manufacturer has its own format) but required, at most 64
    printable ASCII characters, surrounding whitespace removed. They are compared exactly,
    case included.
    """

    bag_id: str
    lot: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "bag_id", _check_bag_field("identifier", self.bag_id))
        object.__setattr__(self, "lot", _check_bag_field("lot", self.lot))

    def to_dict(self) -> dict[str, str]:
        return {"bag_id": self.bag_id, "lot": self.lot}


ManufacturerBagId = BagLabel

"""ASTCT 2019 consensus grading of CRS and ICANS (Lee et al., Biol Blood Marrow Transplant
2019;25:625-638; reference: labels.md section 11).

CRS: fever of at least 38.0 °C is required, unless it is masked (the patient has had CRS and
then received antipyretics, tocilizumab or steroids); the grade is then set by the more severe
of hypotension and hypoxia, and fever alone is grade 1. Without fever, and fever not masked,
the answer is "not CRS by ASTCT": look for another cause.

ICANS: the grade is set by the most severe of the domains: the encephalopathy score (ICE
from age 12, CAPD under 12 or with developmental delay at any age), the level of
consciousness, seizures, motor findings and raised intracranial pressure / cerebral oedema.

Decisions taken where the table leaves room (each tested):

- CAPD and consciousness are two domains, the worst sets the grade ("Reading the child
  rules"). The CAPD band of grades 1-2 is "<9 and wakes spontaneously / to voice": the
  consciousness domain gives the 1 or 2, and a CAPD of 1-8 in an alert child is grade 1
  from the CAPD domain. A CAPD of 0 in an alert child is no ICANS.
- "Cannot perform CAPD" (and an ICE that cannot be done) is recorded as consciousness
  ``unarousable``: grade 4, and no score is then required. An ICE given for an unarousable
  patient must be 0.
- An ICE of 0 in a patient who is awake is grade 3 from the ICE domain; unarousable is grade 4
  from the consciousness domain.
- Without an age, the patient is taken as 12 or over (ICE) unless developmentally delayed;
  a CAPD score then needs the age, so a child is never graded on adult thresholds by default.
- With fever masked and neither hypotension nor hypoxia, there is no CRS grade at present
  (grade 0); a fever that is still present under treatment is grade 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, TypeVar

from cartflow.domain.errors import InvalidInput

SOURCE: Final = "ASTCT 2019 (Lee et al.)"
FEVER_C: Final = 38.0
MIN_BODY_TEMPERATURE_C: Final = 35.0
MAX_BODY_TEMPERATURE_C: Final = 43.0
"""The plausible range of the HIGHEST temperature of a grading period (site policy, cartflow's
plausibility bounds: below 35 °C is hypothermia, not a highest reading; above 43 °C is not
survivable). A value outside is refused as a typing or unit error, never graded."""
LOW_FLOW_MAX_L_MIN: Final = 6.0
MAX_OXYGEN_FLOW_L_MIN: Final = 100.0
ICE_MAX: Final = 10
CAPD_MAX: Final = 32
CAPD_GRADE_3_FROM: Final = 9
ICE_FROM_AGE: Final = 12.0
MAX_AGE_YEARS: Final = 130.0
NOT_CRS: Final = "not CRS by ASTCT: look for another cause"

E = TypeVar("E", bound=StrEnum)


# --- CRS -------------------------------------------------------------------------------


class Hypotension(StrEnum):
    """Hypotension, by the treatment it needs. Vasopressin never counts toward "multiple"."""

    NONE = "none"
    NO_VASOPRESSORS = "no-vasopressors"
    ONE_VASOPRESSOR = "one-vasopressor"  # one vasopressor, with or without vasopressin
    MULTIPLE_VASOPRESSORS = "multiple-vasopressors"  # two or more, vasopressin not counted


class Oxygen(StrEnum):
    """Hypoxia, by the oxygen support it needs."""

    NONE = "none"
    LOW_FLOW = "low-flow"  # nasal cannula at most 6 L/min, or blow-by
    HIGH_FLOW = "high-flow"  # nasal cannula over 6 L/min, facemask, non-rebreather, Venturi
    POSITIVE_PRESSURE = "positive-pressure"  # CPAP, BiPAP, intubation and ventilation


HYPOTENSION_GRADE: Final[Mapping[Hypotension, int]] = {
    Hypotension.NONE: 0,
    Hypotension.NO_VASOPRESSORS: 2,
    Hypotension.ONE_VASOPRESSOR: 3,
    Hypotension.MULTIPLE_VASOPRESSORS: 4,
}
OXYGEN_GRADE: Final[Mapping[Oxygen, int]] = {
    Oxygen.NONE: 0,
    Oxygen.LOW_FLOW: 2,
    Oxygen.HIGH_FLOW: 3,
    Oxygen.POSITIVE_PRESSURE: 4,
}
_HYPOTENSION_WORDS: Final[Mapping[Hypotension, str]] = {
    Hypotension.NONE: "no hypotension",
    Hypotension.NO_VASOPRESSORS: "hypotension not requiring vasopressors",
    Hypotension.ONE_VASOPRESSOR: (
        "hypotension requiring one vasopressor (with or without vasopressin)"
    ),
    Hypotension.MULTIPLE_VASOPRESSORS: (
        "hypotension requiring multiple vasopressors (vasopressin not counted)"
    ),
}
_OXYGEN_WORDS: Final[Mapping[Oxygen, str]] = {
    Oxygen.NONE: "no hypoxia",
    Oxygen.LOW_FLOW: "hypoxia needing low-flow oxygen (at most 6 L/min, or blow-by)",
    Oxygen.HIGH_FLOW: (
        "hypoxia needing high-flow oxygen (over 6 L/min, facemask, non-rebreather or Venturi)"
    ),
    Oxygen.POSITIVE_PRESSURE: "hypoxia needing positive pressure (CPAP, BiPAP or ventilation)",
}


def _choice(kind: type[E], value: E | str, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        accepted = ", ".join(member.value for member in kind)
        raise InvalidInput(f"unknown {what} {value!r}; accepted: {accepted}") from None


def _number(value: float, what: str, accepted: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"the {what} must be a number; accepted: {accepted}")
    return float(value)


def hypotension_from_vasopressors(vasopressors: Iterable[str], *, hypotensive: bool) -> Hypotension:
    """The hypotension category from the vasopressors given (drug names, any case).

    Vasopressin alone counts as one vasopressor, but never toward "multiple": norepinephrine
    with vasopressin is one vasopressor; norepinephrine with phenylephrine is multiple. A drug
    named twice counts once. Vasopressors imply hypotension, so listing any while
    ``hypotensive`` is false is refused as contradictory.
    """
    names: set[str] = set()
    for drug in vasopressors:
        if not isinstance(drug, str) or not drug.strip():
            raise InvalidInput("each vasopressor must be named (e.g. norepinephrine, vasopressin)")
        names.add(drug.strip().lower())
    if names and not hypotensive:
        raise InvalidInput(
            "vasopressors were listed but hypotension was not: vasopressors are given for "
            "hypotension; record the hypotension or remove the vasopressors"
        )
    counted = names - {"vasopressin"}
    if len(counted) >= 2:
        return Hypotension.MULTIPLE_VASOPRESSORS
    if names:
        return Hypotension.ONE_VASOPRESSOR
    return Hypotension.NO_VASOPRESSORS if hypotensive else Hypotension.NONE


def oxygen_from_flow(litres_per_minute: float) -> Oxygen:
    """The oxygen category from a nasal cannula flow: 0 none, at most 6 L/min low flow, above
    that high flow. Positive pressure cannot be told from a flow; pass it directly."""
    flow = _number(litres_per_minute, "oxygen flow", f"0 to {MAX_OXYGEN_FLOW_L_MIN:g} L/min")
    if not 0.0 <= flow <= MAX_OXYGEN_FLOW_L_MIN:
        raise InvalidInput(
            f"the oxygen flow {litres_per_minute!r} L/min is out of range; "
            f"accepted: 0 to {MAX_OXYGEN_FLOW_L_MIN:g} L/min"
        )
    if flow == 0.0:
        return Oxygen.NONE
    return Oxygen.LOW_FLOW if flow <= LOW_FLOW_MAX_L_MIN else Oxygen.HIGH_FLOW


@dataclass(frozen=True)
class CrsGrade:
    """A CRS grade: ``grade`` 0-4, ``crs`` whether it meets the ASTCT definition now,
    ``reason`` in plain words naming the deciding domain and the source, and
    ``deciding_domains`` among ``fever``, ``hypotension``, ``hypoxia``."""

    grade: int
    crs: bool
    reason: str
    deciding_domains: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "grade": self.grade,
            "crs": self.crs,
            "reason": self.reason,
            "deciding_domains": list(self.deciding_domains),
        }


def grade_crs(
    temperature_c: float,
    hypotension: Hypotension | str,
    oxygen: Oxygen | str,
    *,
    fever_masked: bool = False,
) -> CrsGrade:
    """Grade CRS by ASTCT 2019 from the highest temperature, hypotension and oxygen support."""
    temperature = _number(
        temperature_c,
        "temperature",
        f"{MIN_BODY_TEMPERATURE_C:g} to {MAX_BODY_TEMPERATURE_C:g} °C",
    )
    if not MIN_BODY_TEMPERATURE_C <= temperature <= MAX_BODY_TEMPERATURE_C:
        raise InvalidInput(
            f"the temperature {temperature_c!r} °C is not a plausible body temperature; "
            f"accepted: {MIN_BODY_TEMPERATURE_C:g} to {MAX_BODY_TEMPERATURE_C:g} °C"
        )
    hypo = _choice(Hypotension, hypotension, "hypotension")
    oxy = _choice(Oxygen, oxygen, "oxygen support")
    fever = temperature >= FEVER_C
    if not fever and not fever_masked:
        return CrsGrade(
            0,
            False,
            f"{NOT_CRS}. No fever of at least {FEVER_C:g} °C ({temperature:g} °C) and fever "
            f"not masked by antipyretics, tocilizumab or steroids. Source: {SOURCE}.",
        )
    by_domain = {"hypotension": HYPOTENSION_GRADE[hypo], "hypoxia": OXYGEN_GRADE[oxy]}
    worst = max(by_domain.values())
    fever_words = (
        f"fever {temperature:g} °C"
        if fever
        else "fever masked by antipyretics, tocilizumab or steroids"
    )
    if worst == 0:
        if not fever:
            return CrsGrade(
                0,
                False,
                "no CRS grade at present: fever is masked by treatment and there is neither "
                f"hypotension nor hypoxia. Source: {SOURCE}.",
            )
        return CrsGrade(
            1,
            True,
            f"grade 1 CRS, set by fever alone ({fever_words}), with no hypotension and no "
            f"hypoxia. Source: {SOURCE}.",
            ("fever",),
        )
    deciding = tuple(name for name, grade in by_domain.items() if grade == worst)
    words = {"hypotension": _HYPOTENSION_WORDS[hypo], "hypoxia": _OXYGEN_WORDS[oxy]}
    setting = " and ".join(words[name] for name in deciding)
    others = [words[name] for name in by_domain if name not in deciding]
    detail = "; ".join([fever_words, *others])
    return CrsGrade(
        worst,
        True,
        f"grade {worst} CRS, set by {setting}. Also: {detail}. Source: {SOURCE}.",
        deciding,
    )


# --- ICANS -----------------------------------------------------------------------------


class Consciousness(StrEnum):
    """The level of consciousness; ``alert`` is normal."""

    ALERT = "alert"
    SPONTANEOUS = "spontaneous"  # depressed, wakes spontaneously
    VOICE = "voice"  # wakes to voice
    TOUCH = "touch"  # wakes only to tactile stimulus
    UNAROUSABLE = "unarousable"  # or needs vigorous/repetitive stimuli; stupor, coma


class Seizure(StrEnum):
    NONE = "none"
    RAPIDLY_RESOLVING = "rapidly-resolving"  # clinical or EEG, resolving rapidly / with treatment
    PROLONGED = "prolonged"  # over 5 minutes, or repetitive without return to baseline


class Motor(StrEnum):
    NONE = "none"
    DEEP_FOCAL_WEAKNESS = "deep-focal-weakness"  # hemiparesis, paraparesis


class Edema(StrEnum):
    """Raised intracranial pressure / cerebral oedema."""

    NONE = "none"
    FOCAL = "focal"  # focal/local oedema on imaging
    DIFFUSE = "diffuse"  # diffuse oedema, posturing, CN VI palsy, papilloedema, Cushing's triad


class Instrument(StrEnum):
    ICE = "ICE"
    CAPD = "CAPD"


CONSCIOUSNESS_GRADE: Final[Mapping[Consciousness, int]] = {
    Consciousness.ALERT: 0,
    Consciousness.SPONTANEOUS: 1,
    Consciousness.VOICE: 2,
    Consciousness.TOUCH: 3,
    Consciousness.UNAROUSABLE: 4,
}
SEIZURE_GRADE: Final[Mapping[Seizure, int]] = {
    Seizure.NONE: 0,
    Seizure.RAPIDLY_RESOLVING: 3,
    Seizure.PROLONGED: 4,
}
MOTOR_GRADE: Final[Mapping[Motor, int]] = {Motor.NONE: 0, Motor.DEEP_FOCAL_WEAKNESS: 4}
EDEMA_GRADE: Final[Mapping[Edema, int]] = {Edema.NONE: 0, Edema.FOCAL: 3, Edema.DIFFUSE: 4}


def ice_grade(ice: int) -> int:
    """The ICE-score domain's grade: 10 none, 7-9 grade 1, 3-6 grade 2, 0-2 grade 3."""
    if ice == ICE_MAX:
        return 0
    if ice >= 7:
        return 1
    if ice >= 3:
        return 2
    return 3


def capd_grade(capd: int) -> int:
    """The CAPD domain's grade: 0 none, 1-8 grade 1 (see module notes), 9 or more grade 3."""
    if capd == 0:
        return 0
    return 1 if capd < CAPD_GRADE_3_FROM else 3


def instrument_for(age_years: float | None, developmental_delay: bool = False) -> Instrument:
    """CAPD under 12 years or with developmental delay at any age; ICE from 12 on.

    Without an age the patient is taken as 12 or over.
    """
    if developmental_delay:
        return Instrument.CAPD
    if age_years is None:
        return Instrument.ICE
    return Instrument.CAPD if age_years < ICE_FROM_AGE else Instrument.ICE


@dataclass(frozen=True)
class IcansGrade:
    """An ICANS grade 0-4 with the instrument used, each domain's grade, the domains that set
    it (empty at grade 0) and a plain-words reason naming the source."""

    grade: int
    instrument: Instrument
    domain_grades: Mapping[str, int] = field(default_factory=dict)
    deciding_domains: tuple[str, ...] = ()
    reason: str = ""

    @property
    def icans(self) -> bool:
        return self.grade > 0

    def to_dict(self) -> dict[str, object]:
        return {
            "grade": self.grade,
            "icans": self.icans,
            "instrument": self.instrument.value,
            "deciding_domains": list(self.deciding_domains),
            "domain_grades": dict(self.domain_grades),
            "reason": self.reason,
        }


def _and(names: tuple[str, ...]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _check_score(value: int, name: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"the {name} score must be a whole number from 0 to {maximum}")
    if not 0 <= value <= maximum:
        raise InvalidInput(f"the {name} score {value} is out of range; accepted: 0 to {maximum}")
    return value


def grade_icans(
    *,
    consciousness: Consciousness | str,
    seizure: Seizure | str = Seizure.NONE,
    motor: Motor | str = Motor.NONE,
    edema: Edema | str = Edema.NONE,
    ice: int | None = None,
    capd: int | None = None,
    age_years: float | None = None,
    developmental_delay: bool = False,
) -> IcansGrade:
    """Grade ICANS by ASTCT 2019: the most severe domain sets the grade.

    Exactly the score for the patient is required: ICE from age 12, CAPD under 12 or with
    developmental delay. The other score is refused, and a missing score is refused unless
    the patient is unarousable (the score cannot then be done).
    """
    level = _choice(Consciousness, consciousness, "level of consciousness")
    fit = _choice(Seizure, seizure, "seizure")
    weakness = _choice(Motor, motor, "motor finding")
    oedema = _choice(Edema, edema, "oedema finding")
    if age_years is not None:
        age = _number(age_years, "age", f"0 to {MAX_AGE_YEARS:g} years")
        if not 0.0 <= age <= MAX_AGE_YEARS:
            raise InvalidInput(
                f"the age {age_years!r} years is out of range; accepted: 0 to {MAX_AGE_YEARS:g}"
            )
    instrument = instrument_for(age_years, developmental_delay)
    unarousable = level is Consciousness.UNAROUSABLE

    domain_grades: dict[str, int] = {}
    if instrument is Instrument.ICE:
        if capd is not None:
            raise InvalidInput(
                "a CAPD score was given for a patient graded with ICE (12 or over, no "
                "developmental delay); give the ICE score (0-10), or the age if under 12"
            )
        if ice is None:
            if not unarousable:
                raise InvalidInput(
                    "the ICE score (0-10) is required from age 12; if the patient cannot do "
                    "ICE because unarousable, record consciousness as unarousable"
                )
        else:
            _check_score(ice, "ICE", ICE_MAX)
            if unarousable and ice != 0:
                raise InvalidInput(
                    f"an ICE score of {ice} cannot be done by an unarousable patient; "
                    "give 0 or no score"
                )
            domain_grades["ice"] = ice_grade(ice)
    else:
        if ice is not None:
            why = "with developmental delay" if developmental_delay else "for a child under 12"
            raise InvalidInput(
                f"an ICE score was given {why}; ICANS is graded with CAPD (0-32) here"
            )
        if capd is None:
            if not unarousable:
                raise InvalidInput(
                    "the CAPD score (0-32) is required under 12 or with developmental delay; if "
                    "CAPD cannot be performed, record consciousness as unarousable"
                )
        else:
            domain_grades["capd"] = capd_grade(_check_score(capd, "CAPD", CAPD_MAX))
    domain_grades["consciousness"] = CONSCIOUSNESS_GRADE[level]
    domain_grades["seizure"] = SEIZURE_GRADE[fit]
    domain_grades["motor"] = MOTOR_GRADE[weakness]
    domain_grades["edema"] = EDEMA_GRADE[oedema]

    grade = max(domain_grades.values())
    if grade == 0:
        return IcansGrade(
            0,
            instrument,
            domain_grades,
            (),
            f"no ICANS: the {instrument.value} score and every other domain are normal. "
            f"Source: {SOURCE}.",
        )
    deciding = tuple(name for name, value in domain_grades.items() if value == grade)
    return IcansGrade(
        grade,
        instrument,
        domain_grades,
        deciding,
        f"grade {grade} ICANS, set by {_and(deciding)} ({instrument.value} used). "
        f"Source: {SOURCE}.",
    )

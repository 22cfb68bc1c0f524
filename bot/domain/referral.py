"""A MARAC referral: its fields, the SafeLives criteria and field-by-field validation.

Validation collects every problem at once so the card can show an error under each bad field
while keeping what the user typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from bot.domain.errors import FieldErrors
from bot.domain.wording import day, plural

DASH_MAX: Final = 24
DASH_HIGH_RISK: Final = 14
MIN_VICTIM_AGE: Final = 16
MAX_CHILDREN: Final = 30
MAX_TEXT: Final = 4000
MAX_NAME: Final = 120
RECEIVED_MAX_AGE_DAYS: Final = 28
# The hidden confirmation of an old received date: its value is the date it confirms.
RECEIVED_CONFIRMED: Final = "received_date_confirmed"


class Criteria(StrEnum):
    VISIBLE_HIGH_RISK = "visible_high_risk"
    PROFESSIONAL_JUDGEMENT = "professional_judgement"
    POTENTIAL_ESCALATION = "potential_escalation"
    REPEAT = "repeat"


CRITERIA_LABELS: Final = {
    Criteria.VISIBLE_HIGH_RISK: "Visible high risk (DASH 14+)",
    Criteria.PROFESSIONAL_JUDGEMENT: "Professional judgement",
    Criteria.POTENTIAL_ESCALATION: "Potential escalation",
    Criteria.REPEAT: "Repeat",
}

GENDERS: Final = {
    "female": "Female",
    "male": "Male",
    "non_binary": "Non-binary",
    "other": "Other",
    "not_known": "Not known",
}
ETHNICITIES: Final = {
    "white_british": "White British",
    "white_other": "White other",
    "mixed": "Mixed or multiple",
    "asian": "Asian or Asian British",
    "black": "Black or Black British",
    "arab": "Arab",
    "other": "Other ethnic group",
    "not_known": "Not known",
}


def criteria_text(criteria: Criteria, dash_score: int | None) -> str:
    """The criteria as a case reads: 'Visible high risk (DASH 18)', 'Professional judgement'
    (with its DASH score when one was given)."""
    label = CRITERIA_LABELS[criteria].removesuffix(" (DASH 14+)")
    return label + (f" (DASH {dash_score})" if dash_score is not None else "")


YES_NO_UNKNOWN: Final = {"yes": "Yes", "no": "No", "not_known": "Not known"}
RELATIONSHIPS: Final = {
    "intimate_partner": "Current partner",
    "ex_partner": "Ex-partner",
    "family_member": "Family member",
    "other": "Other",
}
CONSENT: Final = {"yes": "Yes", "no": "No"}


@dataclass(frozen=True)
class Referral:
    """Every field of the referral card, validated."""

    victim_name: str
    victim_dob: date | None
    victim_gender: str
    victim_ethnicity: str
    victim_disability: str
    victim_lgbt: str
    perpetrator_name: str | None
    perpetrator_dob: date | None
    relationship: str
    children_count: int
    referring_agency: str
    criteria: Criteria
    dash_score: int | None
    incident_date: date | None
    received_date: date
    agencies: tuple[str, ...]
    summary: str | None
    consent: bool
    consent_reason: str | None

    @property
    def victim_initials(self) -> str:
        """Initials for agendas and lists, which must not carry the full name."""
        return victim_initials(self.victim_name)


def victim_initials(name: str) -> str:
    parts = [p for p in re.split(r"[\s\-]+", name.strip()) if p]
    return "".join(p[0].upper() for p in parts[:3]) or "?"


def _text(raw: Mapping[str, object], key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    return str(value).strip()


def _date(raw: Mapping[str, object], key: str, errors: dict[str, str]) -> date | None:
    text = _text(raw, key)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[key] = "Please enter a date as YYYY-MM-DD."
        return None


def _int(
    raw: Mapping[str, object], key: str, low: int, high: int, errors: dict[str, str]
) -> int | None:
    text = _text(raw, key)
    if not text:
        return None
    if not re.fullmatch(r"\d{1,3}", text):
        errors[key] = f"Please enter a whole number from {low} to {high}."
        return None
    number = int(text)
    if not low <= number <= high:
        errors[key] = f"Please enter a whole number from {low} to {high}."
        return None
    return number


def _choice(
    raw: Mapping[str, object],
    key: str,
    allowed: Mapping[str, str],
    errors: dict[str, str],
    default: str | None = None,
) -> str:
    text = _text(raw, key) or (default or "")
    if text not in allowed:
        errors[key] = "Please choose one of the options."
    return text


def _age_on(dob: date, on: date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _has_letter(name: str) -> bool:
    """A name is made of letters: '-' or '...' names nobody (and would match each other)."""
    return any(ch.isalpha() for ch in name)


def parse_referral(
    raw: Mapping[str, object],
    today: date,
    agency_keys: Sequence[str],
    max_received_age_days: int = RECEIVED_MAX_AGE_DAYS,
) -> Referral:
    """Validate the card's inputs; raise ``FieldErrors`` naming every bad field.

    ``agency_keys`` are the directory's agencies (the choices of ``referring_agency`` and
    ``agencies``); ``today`` is the London date, so no date may lie after it. A received date
    more than ``max_received_age_days`` ago needs ``received_date_confirmed`` set to that very
    date (the card asks, naming it), so a mistyped year cannot slip through silently.
    """
    errors: dict[str, str] = {}

    victim_name = _text(raw, "victim_name")
    if not victim_name:
        errors["victim_name"] = "Please enter the victim's name."
    elif not _has_letter(victim_name):
        errors["victim_name"] = "Please enter the victim's name in letters."
    elif len(victim_name) > MAX_NAME:
        errors["victim_name"] = f"Please use at most {MAX_NAME} characters."

    victim_dob = _date(raw, "victim_dob", errors)
    if victim_dob and "victim_dob" not in errors:
        if victim_dob > today:
            errors["victim_dob"] = "The date of birth cannot be in the future."
        elif _age_on(victim_dob, today) < MIN_VICTIM_AGE:
            errors["victim_dob"] = (
                "MARAC is for victims aged 16 or over; please use the children's "
                "safeguarding route."
            )

    gender = _choice(raw, "victim_gender", GENDERS, errors, "not_known")
    ethnicity = _choice(raw, "victim_ethnicity", ETHNICITIES, errors, "not_known")
    disability = _choice(raw, "victim_disability", YES_NO_UNKNOWN, errors, "not_known")
    lgbt = _choice(raw, "victim_lgbt", YES_NO_UNKNOWN, errors, "not_known")

    perpetrator_name = _text(raw, "perpetrator_name") or None
    if perpetrator_name and not _has_letter(perpetrator_name):
        errors["perpetrator_name"] = (
            "Please enter the name in letters, or leave it empty if it is not known."
        )
    elif perpetrator_name and len(perpetrator_name) > MAX_NAME:
        errors["perpetrator_name"] = f"Please use at most {MAX_NAME} characters."
    perpetrator_dob = _date(raw, "perpetrator_dob", errors)
    if perpetrator_dob and "perpetrator_dob" not in errors and perpetrator_dob > today:
        errors["perpetrator_dob"] = "The date of birth cannot be in the future."

    relationship = _choice(raw, "relationship", RELATIONSHIPS, errors)

    children = _int(raw, "children_count", 0, MAX_CHILDREN, errors)
    if children is None and "children_count" not in errors:
        errors["children_count"] = "Please enter the number of children (0 if none)."

    referring_agency = _text(raw, "referring_agency")
    if referring_agency not in agency_keys:
        errors["referring_agency"] = "Please choose the referring agency."

    criteria_text = _text(raw, "criteria")
    criteria: Criteria | None = None
    try:
        criteria = Criteria(criteria_text)
    except ValueError:
        errors["criteria"] = "Please choose the referral criteria."

    dash = _int(raw, "dash_score", 0, DASH_MAX, errors)
    if "dash_score" in errors:
        errors["dash_score"] = f"The DASH score is a whole number from 0 to {DASH_MAX}."
    elif criteria is Criteria.VISIBLE_HIGH_RISK:
        if dash is None:
            errors["dash_score"] = "Visible high risk needs the DASH score."
        elif dash < DASH_HIGH_RISK:
            errors["dash_score"] = (
                f"Visible high risk needs a DASH score of {DASH_HIGH_RISK} or more; "
                "choose professional judgement and give the reason instead."
            )

    summary = _text(raw, "summary") or None
    if summary and len(summary) > MAX_TEXT:
        errors["summary"] = f"Please use at most {MAX_TEXT} characters."
    elif criteria is Criteria.PROFESSIONAL_JUDGEMENT and not summary:
        errors["summary"] = "Professional judgement needs the reason for concern here."

    received = _date(raw, "received_date", errors)
    if received is None and "received_date" not in errors:
        errors["received_date"] = "Please enter the date the referral was received."
    elif received and received > today:
        errors["received_date"] = "The received date cannot be in the future."
    elif (
        received
        and (today - received).days > max_received_age_days
        and _text(raw, RECEIVED_CONFIRMED) != received.isoformat()
    ):
        errors[RECEIVED_CONFIRMED] = (
            f"The referral was received on {day(received)}, "
            f"{plural((today - received).days, 'day')} ago. If that date is right, tick "
            "the box and submit again; its deadlines have passed and are shown as missed."
        )

    incident = _date(raw, "incident_date", errors)
    if incident and "incident_date" not in errors:
        if incident > today:
            errors["incident_date"] = "The incident date cannot be in the future."
        elif received and incident > received:
            errors["incident_date"] = "The incident cannot be after the referral was received."

    agencies_text = _text(raw, "agencies")
    chosen = (
        [a.strip() for a in agencies_text.split(",") if a.strip()]
        if agencies_text
        else list(agency_keys)
    )
    unknown = [a for a in chosen if a not in agency_keys]
    if unknown or not chosen:
        errors["agencies"] = "Please choose the agencies to involve from the list."

    consent_text = _choice(raw, "consent", CONSENT, errors)
    consent_reason = _text(raw, "consent_reason") or None
    if consent_text == "no" and not consent_reason:
        errors["consent_reason"] = (
            "Sharing without consent needs the reason; it is recorded with the referral."
        )

    if errors:
        raise FieldErrors(errors)
    assert criteria is not None and received is not None and children is not None
    return Referral(
        victim_name=victim_name,
        victim_dob=victim_dob,
        victim_gender=gender,
        victim_ethnicity=ethnicity,
        victim_disability=disability,
        victim_lgbt=lgbt,
        perpetrator_name=perpetrator_name,
        perpetrator_dob=perpetrator_dob,
        relationship=relationship,
        children_count=children,
        referring_agency=referring_agency,
        criteria=criteria,
        dash_score=dash,
        incident_date=incident,
        received_date=received,
        agencies=tuple(dict.fromkeys(chosen)),
        summary=summary,
        consent=consent_text == "yes",
        consent_reason=consent_reason,
    )

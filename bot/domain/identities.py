"""Who is the same person across referrals, without keeping who they are: the opaque
identities the figures count with, and the serial-perpetrator flag.

A person causing harm is the same person when the normalised name (bot.domain.repeats) and the
date of birth are both the same; without a date of birth nobody is matched, because a common
name alone would link strangers. A victim is identified the same way, the date of birth left
empty when unknown (as repeat detection's default rule does, two victims with the same name and
no dates of birth count as one: the serial count errs low rather than high).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain.repeats import normalise_name


def age_on(dob: date | None, day: date) -> int | None:
    """Whole years of age on ``day`` (None when the date of birth is unknown)."""
    if dob is None:
        return None
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def victim_identity(normalised_name: str, dob: date | None) -> str:
    """The victim as an opaque key: their normalised name and date of birth."""
    return f"{normalised_name}|{dob.isoformat() if dob else ''}"


def perpetrator_identity(normalised_name: str | None, dob: date | None) -> str | None:
    """The person causing harm as an opaque key, or None unless name and birth date are known."""
    if not normalised_name or dob is None:
        return None
    return f"{normalised_name}|{dob.isoformat()}"


def perpetrator_key(name: str | None) -> str:
    """The normalised name a referral's person causing harm is matched on ('' when none)."""
    return normalise_name(name) if name else ""


@dataclass(frozen=True)
class SerialPerpetrator:
    """The person causing harm in a case is also named in referrals about other victims
    (coordinators only): how many other victims, and the references of those cases."""

    other_victims: int
    references: tuple[str, ...]

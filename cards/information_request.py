"""The information-request card (verb ``inforeq.submit``) sent to each involved agency's
contacts, and the versions that replace it once the agency has answered."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from bot.domain.cases import CaseView
from bot.domain.clock import LONDON
from bot.domain.information import MAX_ANSWER
from bot.domain.referral import RELATIONSHIPS
from cards.common import (
    Card,
    Element,
    day,
    envelope,
    execute,
    facts,
    heading,
    input_choice,
    input_text,
    moment,
    text,
    with_error,
)

VERB = "inforeq.submit"
INPUT_IDS = ("known", "information", "concerns")
NEUTRAL = "A MARAT information request needs your answer"
KNOWN = {"yes": "Yes, we hold information", "no": "No, not known to us"}


def _case_facts(case: CaseView) -> Element:
    referral = case.referral
    return facts(
        [
            ("Case", case.reference),
            (
                "Victim",
                referral.victim_name
                + (f" (born {day(referral.victim_dob)})" if referral.victim_dob else ""),
            ),
            (
                "Person causing harm",
                (referral.perpetrator_name or "not known")
                + (f" (born {day(referral.perpetrator_dob)})" if referral.perpetrator_dob else ""),
            ),
            ("Relationship", RELATIONSHIPS.get(referral.relationship, referral.relationship)),
            ("Children in the household", str(referral.children_count)),
            # Whether it is a repeat matters to the research; the earlier case's reference
            # may not be this agency's to know.
            ("Repeat referral", "yes" if case.is_repeat else "no"),
            ("Referral received", day(case.deadlines.received)),
        ]
    )


def information_request_card(
    token: str,
    case: CaseView,
    agency_name: str,
    due: date,
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Card:
    """An agency's information request: the case facts it needs for its research and the
    answer form (on a failed answer, the form again with the user's values and errors)."""
    v = {k: str(val) for k, val in (values or {}).items() if val is not None}
    errs = dict(errors or {})
    when = (
        f"answer as soon as you can (returns were due by the end of {day(due)}, before the "
        "referral was recorded)"
        if due < case.created_at.astimezone(LONDON).date()
        else f"answer by the end of {day(due)}"
    )
    body: list[Element] = [
        heading("MARAT information request"),
        text(
            f"For {agency_name}: please check your records and {when}. Share only what is "
            "relevant and proportionate.",
            subtle=True,
        ),
        _case_facts(case),
    ]
    general = [m for k, m in errs.items() if k not in INPUT_IDS]
    body.extend(text(message, attention=True) for message in general)
    inputs = [
        input_choice(
            "known",
            "Are these people known to your agency?",
            KNOWN,
            v.get("known", ""),
            required=True,
            expanded=True,
        ),
        input_text(
            "information",
            "What your agency holds (required if known)",
            v.get("information", ""),
            multiline=True,
            max_length=MAX_ANSWER,
        ),
        input_text(
            "concerns",
            "Current risks or concerns (optional)",
            v.get("concerns", ""),
            multiline=True,
            max_length=MAX_ANSWER,
        ),
    ]
    for element in inputs:
        body.extend(with_error(element, errs))
    return envelope(body, [execute("Send answer", VERB, {"token": token}, "positive")], NEUTRAL)


def answered_card(
    reference: str,
    agency_name: str,
    answered_by: str,
    answered_at: datetime,
    late: bool,
    mine: bool,
) -> Card:
    """What the answerer sees in place of the form, and what the agency's other contacts see
    in place of their copy: the request is closed for the agency either way."""
    who = "You" if mine else answered_by
    body: list[Element] = [
        heading("MARAT information request answered"),
        text(f"{who} answered for {agency_name} on {moment(answered_at)} ({reference})."),
    ]
    if late:
        body.append(text("The answer came after the due date and is marked late.", subtle=True))
    if not mine:
        body.append(text("No further answer is needed from your agency.", subtle=True))
    return envelope(body, fallback_text="A MARAT information request was answered.")


def closed_card(message: str, reference: str | None = None, agency_name: str | None = None) -> Card:
    """An information request that can no longer be answered, and why (a closed case)."""
    body: list[Element] = [heading("MARAT information request")]
    if reference and agency_name:
        body.append(text(f"For {agency_name} ({reference}): no answer is needed any more."))
    body.append(text(message))
    return envelope(body, fallback_text="A MARAT information request is closed.")

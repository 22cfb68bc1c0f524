"""The referral card (verb ``refer.submit``) and the card that replaces it once the case exists.

Input ids are part of the wire contract (PRODUCT.md section 4): tests outside the project fill
them by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.cases import CaseView
from bot.domain.clock import LONDON
from bot.domain.directory import Agency
from bot.domain.referral import (
    CONSENT,
    CRITERIA_LABELS,
    DASH_MAX,
    ETHNICITIES,
    GENDERS,
    MAX_CHILDREN,
    RECEIVED_CONFIRMED,
    RELATIONSHIPS,
    YES_NO_UNKNOWN,
)
from bot.domain.wording import plural
from cards.common import (
    Card,
    Element,
    day,
    envelope,
    execute,
    facts,
    heading,
    input_choice,
    input_date,
    input_number,
    input_text,
    input_toggle,
    text,
    with_error,
)

VERB = "refer.submit"
INPUT_IDS = (
    "victim_name",
    "victim_dob",
    "victim_gender",
    "victim_ethnicity",
    "victim_disability",
    "victim_lgbt",
    "perpetrator_name",
    "perpetrator_dob",
    "relationship",
    "children_count",
    "referring_agency",
    "criteria",
    "dash_score",
    "incident_date",
    "received_date",
    "agencies",
    "summary",
    "consent",
    "consent_reason",
)
# Not in the wire contract's list, added by this card when an old received date needs
# confirming (the referral is refused without it).
CONFIRM_IDS = (RECEIVED_CONFIRMED,)
FALLBACK = "A MARAT referral form is ready."


def referral_card(
    token: str,
    agencies: Sequence[Agency],
    today_iso: str,
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Card:
    """The form; on a failed submit, the same form with the user's values and field errors."""
    v = {k: str(val) for k, val in (values or {}).items() if val is not None}
    errs = dict(errors or {})
    agency_choices = {a.key: a.name for a in agencies}
    get = v.get
    criteria = {c.value: label for c, label in CRITERIA_LABELS.items()}
    body: list[Element] = [heading("New MARAC referral")]
    general = [
        message for key, message in errs.items() if key not in (*INPUT_IDS, RECEIVED_CONFIRMED)
    ]
    body.extend(text(message, attention=True) for message in general)
    if len(general) < len(errs):
        body.append(
            text(
                "Please correct the fields marked below; nothing has been saved yet.",
                attention=True,
            )
        )
    sections: list[tuple[str, list[Element]]] = [
        (
            "Victim",
            [
                input_text(
                    "victim_name",
                    "Victim's full name",
                    get("victim_name", ""),
                    required=True,
                    max_length=120,
                ),
                input_date("victim_dob", "Victim's date of birth", get("victim_dob", "")),
                input_choice("victim_gender", "Gender", GENDERS, get("victim_gender", "not_known")),
                input_choice(
                    "victim_ethnicity",
                    "Ethnicity",
                    ETHNICITIES,
                    get("victim_ethnicity", "not_known"),
                ),
                input_choice(
                    "victim_disability",
                    "Disability",
                    YES_NO_UNKNOWN,
                    get("victim_disability", "not_known"),
                ),
                input_choice(
                    "victim_lgbt", "LGBT+", YES_NO_UNKNOWN, get("victim_lgbt", "not_known")
                ),
                input_number(
                    "children_count",
                    "Children in the household",
                    get("children_count", "0"),
                    low=0,
                    high=MAX_CHILDREN,
                    required=True,
                ),
            ],
        ),
        (
            "Person causing harm",
            [
                input_text(
                    "perpetrator_name",
                    "Name of the person causing harm",
                    get("perpetrator_name", ""),
                    max_length=120,
                ),
                input_date("perpetrator_dob", "Their date of birth", get("perpetrator_dob", "")),
                input_choice(
                    "relationship",
                    "Relationship to the victim",
                    RELATIONSHIPS,
                    get("relationship", ""),
                    required=True,
                ),
            ],
        ),
        (
            "Referral",
            [
                input_choice(
                    "referring_agency",
                    "Referring agency",
                    agency_choices,
                    get("referring_agency", ""),
                    required=True,
                ),
                input_choice(
                    "criteria", "Referral criteria", criteria, get("criteria", ""), required=True
                ),
                input_number(
                    "dash_score",
                    f"DASH score (0 to {DASH_MAX})",
                    get("dash_score", ""),
                    low=0,
                    high=DASH_MAX,
                ),
                input_date(
                    "incident_date", "Date of the latest incident", get("incident_date", "")
                ),
                input_date(
                    "received_date",
                    "Date the referral was received",
                    get("received_date", today_iso),
                    required=True,
                ),
                input_choice(
                    "agencies",
                    "Agencies to involve",
                    agency_choices,
                    get("agencies", ",".join(agency_choices)),
                    multi=True,
                ),
                input_text(
                    "summary",
                    "Summary of risk (and the reason, for professional judgement)",
                    get("summary", ""),
                    multiline=True,
                    max_length=4000,
                ),
                input_choice(
                    "consent",
                    "Has the victim consented to the referral?",
                    CONSENT,
                    get("consent", ""),
                    required=True,
                    expanded=True,
                ),
                input_text(
                    "consent_reason",
                    "If not, why share without consent?",
                    get("consent_reason", ""),
                    multiline=True,
                    max_length=4000,
                ),
            ],
        ),
    ]
    for title, inputs in sections:
        body.append(text(title, bold=True, spacing="Large"))
        for element in inputs:
            body.extend(with_error(element, errs))
            if element["id"] == "received_date" and (
                RECEIVED_CONFIRMED in errs or get(RECEIVED_CONFIRMED)
            ):
                # An old received date is confirmed by ticking a box that names that date.
                received = get("received_date", "")
                body.extend(
                    with_error(
                        input_toggle(
                            RECEIVED_CONFIRMED,
                            "Confirm the received date",
                            f"Yes, it was received on {received}",
                            received,
                            get(RECEIVED_CONFIRMED, ""),
                        ),
                        errs,
                    )
                )
    return envelope(
        body, [execute("Submit referral", VERB, {"token": token}, "positive")], FALLBACK
    )


def referral_done_card(case: CaseView, calendar: WorkingDayCalendar) -> Card:
    """Replaces the form: the case reference and its working-day dates."""
    d = case.deadlines
    listing = case.listing
    body: list[Element] = [
        heading(f"Referral recorded: {case.reference}"),
        facts(
            [
                ("Victim", case.referral.victim_initials),
                (
                    "Repeat",
                    f"yes, of {case.repeat_of}"
                    if case.repeat_of
                    else ("yes" if case.is_repeat else "no"),
                ),
                ("Day 0", day(d.day_zero)),
                ("Information due", day(d.information_due)),
                ("Case discussion (day 3)", day(d.discussion)),
                (
                    "Conference",
                    day(listing.meeting_date) if listing.meeting_date else "none with capacity yet",
                ),
                ("Day-14 target", day(d.conference_target)),
            ]
        ),
    ]
    if d.day_zero != d.received:
        reason = calendar.holiday_name(d.received) or "a weekend"
        body.append(
            text(
                f"Received on {day(d.received)} ({reason}); day 0 is the next working day.",
                subtle=True,
            )
        )
    if listing.breach:
        if (
            listing.meeting_date is None
            and d.conference_target < case.created_at.astimezone(LONDON).date()
        ):
            body.append(
                text(
                    f"The day-14 target, {day(d.conference_target)}, had passed before the "
                    "referral was recorded, and no conference has a free place yet: add one "
                    "with meeting add YYYY-MM-DD.",
                    attention=True,
                )
            )
        elif listing.meeting_date is None:
            body.append(
                text(
                    f"No conference with capacity exists yet. The target of "
                    f"{day(d.conference_target)} will be missed unless one is added "
                    "(meeting add).",
                    attention=True,
                )
            )
        else:
            body.append(
                text(
                    f"No conference with capacity on or before {day(d.conference_target)}: "
                    f"the day-14 target is missed. Listed at the earliest possible "
                    f"conference, {day(listing.meeting_date)}.",
                    attention=True,
                )
            )
    body.append(
        text(
            "Information requests are open for "
            f"{plural(len(case.agencies), 'agency', 'agencies')}.",
            subtle=True,
        )
    )
    return envelope(body, fallback_text="A MARAT referral was recorded.")


def already_submitted_card(reference: str | None) -> Card:
    """The answer to a second click of a referral card: the case it created."""
    message = (
        f"This referral was already submitted as {reference}."
        if reference
        else "This referral was already submitted."
    )
    return envelope(
        [heading("Referral already recorded"), text(message)],
        fallback_text="A MARAT referral was recorded.",
    )

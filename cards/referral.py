"""The referral card (verb ``refer.submit``); what replaces it is in cards/referral_recorded.py.

Input ids are part of the wire contract (PRODUCT.md section 4): tests outside the project fill
them by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
from cards.common import (
    Card,
    Element,
    envelope,
    execute,
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

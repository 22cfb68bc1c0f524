"""The conference pack in Teams (`/agenda DATE pack`, or the agenda card's button): a first
card listing the cases in agenda order, then one card per case — the referral summary, the
agencies' returns, the case discussion and the outstanding actions. One card per case keeps
each message well inside Teams' size limit."""

from __future__ import annotations

from datetime import date

from bot.domain.actions import STATUS_LABELS
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.pack import ConferencePack, PackCase
from bot.domain.referral import RELATIONSHIPS, criteria_text
from bot.domain.wording import plural
from cards.common import Card, Element, day, envelope, facts, heading, text
from cards.returns import return_elements

FALLBACK = "A MARAT conference pack is ready."
CONFIDENTIAL = "Confidential: for the members of this MARAC conference only."


def pack_summary_card(pack: ConferencePack) -> Card:
    """The pack's first card: the conference and its cases in agenda order."""
    body: list[Element] = [
        heading(f"Conference pack · MARAC conference {day(pack.meeting.date)}"),
        text(CONFIDENTIAL, subtle=True),
        text(
            f"{plural(len(pack.cases), 'case')} in agenda order; each follows in its own "
            "card with the returns, the case discussion and the outstanding actions."
            if pack.cases
            else "No case is listed at this conference.",
        ),
    ]
    section = None
    for number, entry in enumerate(pack.cases, 1):
        if entry.section != section:
            section = entry.section
            body.append(text(section, bold=True, spacing="Large"))
        case = entry.case
        body.append(
            text(
                f"{number}. **{case.reference}** · {case.referral.victim_initials} · "
                f"{criteria_text(case.referral.criteria, case.referral.dash_score)} · "
                f"returns {case.returns_in}/{case.returns_due}"
            )
        )
    return envelope(body, fallback_text=FALLBACK)


def pack_case_card(
    pack: ConferencePack,
    entry: PackCase,
    number: int,
    calendar: WorkingDayCalendar,
    today: date,
) -> Card:
    """One case of the pack, as the chair reads it before the meeting (a contact's pack
    leaves out the summary and the discussion notes)."""
    case, referral = entry.case, entry.case.referral
    full = pack.viewer_agencies is None
    body: list[Element] = [
        heading(f"{number}. {case.reference} · {entry.section}"),
        facts(
            [
                ("Victim", referral.victim_name if full else referral.victim_initials),
                ("Criteria", criteria_text(referral.criteria, referral.dash_score)),
                ("Repeat", "yes" if case.is_repeat else "no"),
                ("Children", str(referral.children_count)),
                ("Relationship", RELATIONSHIPS.get(referral.relationship, referral.relationship)),
                ("Referred by", pack.name(referral.referring_agency)),
                (
                    "Working days since day 0",
                    str(case.working_days_since_day_zero(calendar, today)),
                ),
                (
                    "Day-14 target",
                    day(case.deadlines.conference_target)
                    + (" (missed)" if case.listing.breach else ""),
                ),
                ("Information returns", f"{case.returns_in}/{case.returns_due}"),
            ]
        ),
    ]
    if full:
        body.append(text("Summary of risk", bold=True, spacing="Large"))
        body.append(text(referral.summary or "No summary was given.", subtle=not referral.summary))
    body.append(text("Case discussion", bold=True, spacing="Large"))
    discussion = entry.discussion
    if discussion is None:
        body.append(text("Not recorded.", subtle=True))
    else:
        took_part = ", ".join(pack.name(a) for a in discussion.attendees) or "no agency named"
        body.append(text(f"Held, with {took_part}." if discussion.held else "Not held."))
        if discussion.notes and full:
            body.append(text(discussion.notes, subtle=True))
    body.append(text("Information returns", bold=True, spacing="Large"))
    body.extend(return_elements(entry.returns, pack.agency_names))
    body.append(text(f"Outstanding actions ({len(entry.actions)})", bold=True, spacing="Large"))
    body.extend(
        [
            text(
                f"**{pack.name(a.agency_key)}**: {a.description} · due {day(a.due)} · "
                + (STATUS_LABELS[a.status] if a.agreed else "proposed (plan not agreed)")
            )
            for a in entry.actions
        ]
        or [text("None.", subtle=True)]
    )
    return envelope(body, fallback_text=FALLBACK)


def pack_cards(pack: ConferencePack, calendar: WorkingDayCalendar, today: date) -> list[Card]:
    """The whole pack: the summary card, then one card per case."""
    return [
        pack_summary_card(pack),
        *(
            pack_case_card(pack, entry, number, calendar, today)
            for number, entry in enumerate(pack.cases, 1)
        ),
    ]

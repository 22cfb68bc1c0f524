"""The conference agenda in the SafeLives order, and its channel-safe summary."""

from __future__ import annotations

from datetime import date

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.cases import Agenda, CaseView
from bot.domain.referral import CRITERIA_LABELS
from cards.common import Card, Element, day, envelope, heading, text

FALLBACK = "A MARAT agenda is ready."


def _case_rows(
    cases: tuple[CaseView, ...], calendar: WorkingDayCalendar, today: date
) -> list[Element]:
    rows: list[Element] = []
    for case in cases:
        referral = case.referral
        flags = [CRITERIA_LABELS[referral.criteria]]
        if case.is_repeat:
            flags.append("REPEAT")
        if case.listing.breach:
            flags.append("target missed")
        line = (
            f"**{case.reference}** · {referral.victim_initials} · "
            f"{referral.children_count} child{'ren' if referral.children_count != 1 else ''} · "
            f"working day {case.working_days_since_day_zero(calendar, today)} · "
            f"target {day(case.listing.target)} · returns {case.returns_in}/{case.returns_due}"
        )
        rows.append(
            {
                "type": "Container",
                "separator": True,
                "items": [text(line), text(" · ".join(flags), subtle=True, spacing="None")],
            }
        )
    return rows


def agenda_card(agenda: Agenda, calendar: WorkingDayCalendar, today: date) -> Card:
    """Outstanding actions come first once action plans exist; then children, then adults."""
    body: list[Element] = []
    meeting = agenda.meeting
    if meeting is None:
        body.append(heading("No MARAC conference on that date"))
    else:
        body.append(heading(f"MARAC conference {day(meeting.date)}"))
        body.append(text(f"{meeting.listed} of {meeting.capacity} places taken.", subtle=True))
        sections = (
            ("Cases with children", agenda.with_children),
            ("Adult-only cases", agenda.adult_only),
        )
        for title, cases in sections:
            body.append(text(f"{title} ({len(cases)})", bold=True, spacing="Large"))
            body.extend(_case_rows(cases, calendar, today) or [text("None.", subtle=True)])
    body.append(
        text(
            f"Case discussions due {day(agenda.day)} ({len(agenda.discussions_today)})",
            bold=True,
            spacing="Large",
        )
    )
    body.extend(
        _case_rows(agenda.discussions_today, calendar, today) or [text("None.", subtle=True)]
    )
    return envelope(body, fallback_text=FALLBACK)


def agenda_summary_text(agenda: Agenda) -> str:
    """For channels and group chats: counts and references only, never case detail."""
    if agenda.meeting is None:
        head = "No MARAC conference on that date."
    else:
        cases = [*agenda.with_children, *agenda.adult_only]
        refs = ", ".join(c.reference for c in cases) or "none"
        head = (
            f"MARAC conference {day(agenda.meeting.date)}: {len(cases)} cases "
            f"({len(agenda.with_children)} with children). References: {refs}."
        )
    return (
        f"{head} Case discussions due {day(agenda.day)}: "
        f"{len(agenda.discussions_today)}. Details are shown only in a 1:1 chat with me."
    )

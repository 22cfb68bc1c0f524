"""The conference agenda in the SafeLives order, and its channel-safe summary."""

from __future__ import annotations

from datetime import date

from bot.domain.actions import STATUS_LABELS
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.cases import Agenda, CaseView
from bot.domain.referral import criteria_text
from bot.domain.wording import plural
from cards.common import Card, Element, day, envelope, execute, heading, text

FALLBACK = "A MARAT agenda is ready."
PACK = "agenda.pack"


def _case_rows(
    cases: tuple[CaseView, ...],
    calendar: WorkingDayCalendar,
    today: date,
    perpetrator_actions: dict[int, int] | None = None,
) -> list[Element]:
    rows: list[Element] = []
    for case in cases:
        referral = case.referral
        flags = [criteria_text(referral.criteria, referral.dash_score)]
        if case.is_repeat:
            # Not the earlier reference: that case may not be this viewer's to know about.
            flags.append("REPEAT")
        if case.previous_case:
            flags.append("previous MARAC over 12 months ago")
        if perpetrator_actions is not None:
            flags.append(f"perpetrator-focused actions: {perpetrator_actions.get(case.id, 0)}")
        if case.listing.breach:
            flags.append("target missed")
        line = (
            f"**{case.reference}** · {referral.victim_initials} · "
            f"{plural(referral.children_count, 'child', 'children')} · "
            f"working day {case.working_days_since_day_zero(calendar, today)} · "
            f"target {day(case.deadlines.conference_target)} · "
            f"returns {case.returns_in}/{case.returns_due}"
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
    """SafeLives order: outstanding actions from earlier meetings, cases with children, adult-
    only cases, cases back 12 months after their last MARAC; then the day's discussions. A
    coordinator's agenda has a "Conference pack" button (verb ``agenda.pack``)."""
    body: list[Element] = []
    meeting = agenda.meeting
    if meeting is None:
        body.append(heading("No MARAC conference on that date"))
    else:
        body.append(heading(f"MARAC conference {day(meeting.date)}"))
        body.append(
            text(f"{meeting.listed} of {plural(meeting.capacity, 'place')} taken.", subtle=True)
        )
        body.append(
            text(
                f"Outstanding actions from earlier meetings ({len(agenda.outstanding)})",
                bold=True,
                spacing="Large",
            )
        )
        body.extend(
            [
                text(
                    f"**{a.reference}** · {a.description} · due {day(a.due)} · "
                    f"{STATUS_LABELS[a.status]}"
                )
                for a in agenda.outstanding
            ]
            or [text("None.", subtle=True)]
        )
        sections = (
            ("Cases with children", agenda.with_children),
            ("Adult-only cases", agenda.adult_only),
            ("12 months since the last MARAC", agenda.twelve_months),
        )
        for title, cases in sections:
            body.append(text(f"{title} ({len(cases)})", bold=True, spacing="Large"))
            body.extend(
                _case_rows(cases, calendar, today, agenda.perpetrator_actions)
                or [text("None.", subtle=True)]
            )
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
    buttons = []
    if agenda.pack_token and meeting is not None:
        buttons.append(execute("Conference pack", PACK, {"token": agenda.pack_token}))
    return envelope(body, buttons, fallback_text=FALLBACK)


def agenda_summary_text(agenda: Agenda) -> str:
    """For channels and group chats: counts and references only, never case detail."""
    if agenda.meeting is None:
        head = "No MARAC conference on that date."
    else:
        cases = [*agenda.with_children, *agenda.adult_only, *agenda.twelve_months]
        refs = ", ".join(c.reference for c in cases) or "none"
        head = (
            f"MARAC conference {day(agenda.meeting.date)}: {plural(len(cases), 'case')} "
            f"({len(agenda.with_children)} with children). References: {refs}."
        )
    return f"{head} Case discussions due {day(agenda.day)}: {len(agenda.discussions_today)}."

"""Case summary (`/case`), open cases (`/cases`) and the conference list (`/meeting list`)."""

from __future__ import annotations

from datetime import date

from bot.domain.actions import STATUS_LABELS
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.cases import CaseDetail, CaseView, Meeting
from bot.domain.clock import LONDON
from bot.domain.referral import CRITERIA_LABELS, RELATIONSHIPS
from cards.common import Card, Element, day, envelope, facts, heading, moment, text
from cards.discussion import discussion_elements

FALLBACK = "A MARAT case summary is ready."


def case_card(
    detail: CaseDetail, calendar: WorkingDayCalendar, today: date, show_referrer_detail: bool
) -> Card:
    """The `/case` summary: facts, returns, discussion, actions and timeline; what a contact
    sees of other agencies is left out (``show_referrer_detail`` is the coordinator's view)."""
    case, referral, d = detail.case, detail.case.referral, detail.case.deadlines

    names = detail.agency_names
    body: list[Element] = [
        heading(f"{case.reference} · {case.state.value}"),
        facts(
            [
                ("Victim", referral.victim_name),
                (
                    "Criteria",
                    CRITERIA_LABELS[referral.criteria]
                    + (f" (DASH {referral.dash_score})" if referral.dash_score is not None else ""),
                ),
                ("Repeat", _repeat(case, show_referrer_detail)),
                ("Children", str(referral.children_count)),
                ("Relationship", RELATIONSHIPS.get(referral.relationship, referral.relationship)),
                ("Referred by", names.get(referral.referring_agency, referral.referring_agency)),
                (
                    "Working days since day 0",
                    str(case.working_days_since_day_zero(calendar, today)),
                ),
                ("Case discussion", day(d.discussion)),
                (
                    "Conference",
                    day(case.listing.meeting_date)
                    if case.listing.meeting_date
                    else "waiting for a conference with capacity",
                ),
                (
                    "Day-14 target",
                    day(case.listing.target) + (" (breached)" if case.listing.breach else ""),
                ),
                ("Information returns", f"{case.returns_in}/{case.returns_due}"),
            ]
        ),
    ]
    serial = detail.serial_perpetrator
    if show_referrer_detail and serial is not None:
        victims = f"{serial.other_victims} other victim{'s' if serial.other_victims != 1 else ''}"
        body.append(
            text(
                f"**Serial perpetrator:** the person causing harm is also named in referrals "
                f"about {victims} ({', '.join(serial.references)}). Coordinators only.",
                attention=True,
            )
        )
    if show_referrer_detail:
        consent = (
            "given"
            if referral.consent
            else (f"not given; shared because: {referral.consent_reason}")
        )
        body.append(facts([("Consent", consent)]))
        if referral.summary:
            body.append(text(referral.summary))
    actions: list[Element] = []
    if detail.discussion is not None:
        recorded = detail.discussion
        took_part = ", ".join(names.get(a, a) for a in recorded.attendees) or "no agency named"
        body.append(
            facts(
                [
                    (
                        "Case discussion",
                        (f"held, with {took_part}" if recorded.held else "recorded as not held"),
                    )
                ]
            )
        )
        if recorded.notes and show_referrer_detail:
            body.append(text(recorded.notes, subtle=True))
    elif detail.discussion_token:
        form, actions = discussion_elements(
            detail.discussion_token,
            case.reference,
            d.discussion,
            {k: names.get(k, k) for k in case.agencies},
        )
        body.extend(form)
    if detail.actions:
        body.append(text("Actions", bold=True, spacing="Large"))
        for action in detail.actions:
            state = STATUS_LABELS[action.status] if action.agreed else "draft (plan not agreed)"
            line = (
                f"**{names.get(action.agency_key, action.agency_key)}**: "
                f"{action.description} · due {day(action.due)} · {state}"
            )
            if action.updated_at and action.updated_by:
                who = detail.action_updaters.get(action.updated_by, "someone")
                line += f" · updated by {who}, {action.updated_at.astimezone(LONDON):%d %b %H:%M}"
                if action.note:
                    line += f": {action.note}"
            body.append(text(line))
    body.append(text("Information returns", bold=True, spacing="Large"))
    shown = [
        k for k in case.agencies if detail.viewer_agencies is None or k in detail.viewer_agencies
    ]
    body.append(facts([(names.get(key, key), _return_state(detail, key)) for key in shown]))
    if detail.viewer_agencies is not None:
        body.append(text("Other agencies' returns are shown to the coordinator only.", subtle=True))
    if detail.not_reached:
        body.append(text("Not reached", bold=True, spacing="Large"))
        body.append(facts(list(detail.not_reached)))
    body.append(text("Timeline", bold=True, spacing="Large"))
    body.append(
        facts(
            [
                (
                    moment(t.at),
                    t.to_state.value + (f": {t.reason}" if t.reason else ""),
                )
                for t in detail.transitions
            ]
        )
    )
    return envelope(body, actions, fallback_text=FALLBACK)


def _repeat(case: CaseView, coordinator: bool) -> str:
    """Earlier references are for the coordinator: the viewer's agency may not have been in
    the earlier case."""
    if case.is_repeat:
        return f"yes, of {case.repeat_of}" if coordinator and case.repeat_of else "yes"
    if case.previous_case:
        return (
            f"no; previous MARAC {case.previous_case} over 12 months ago"
            if coordinator
            else "no; previous MARAC over 12 months ago"
        )
    return "no"


def _return_state(detail: CaseDetail, key: str) -> str:
    if key in detail.late_agencies:
        return "returned late"
    if key in detail.answered_agencies:
        return "returned"
    return f"awaited (due {day(detail.case.deadlines.information_due)})"


def cases_card(cases: list[CaseView], today: date) -> Card:
    """The `/cases` list: open cases with their next deadline, missed targets marked."""
    body: list[Element] = [heading(f"Open cases ({len(cases)})")]
    if not cases:
        body.append(text("There are no open cases."))
    for case in cases:
        step = case.next_deadline(today)
        next_text = f"{step[0]} {day(step[1])}" if step else "no deadline"
        warn = " · **target missed**" if case.listing.breach else ""
        warn += " · REPEAT" if case.is_repeat else ""
        body.append(text(f"**{case.reference}** · {case.state.value} · next: {next_text}{warn}"))
    return envelope(body, fallback_text="A MARAT case list is ready.")


def meetings_card(meetings: list[Meeting]) -> Card:
    """The `/meeting list`: coming conferences and their free places."""
    body: list[Element] = [heading("Coming MARAC conferences")]
    if not meetings:
        body.append(text("No conferences are scheduled. Add one with: meeting add YYYY-MM-DD"))
    body.extend(text(f"{day(m.date)} · {m.listed} of {m.capacity} places taken") for m in meetings)
    return envelope(body, fallback_text="A MARAT conference list is ready.")

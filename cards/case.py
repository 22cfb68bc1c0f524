"""Case summary (`/case`), open cases (`/cases`) and the conference list (`/meeting list`)."""

from __future__ import annotations

from datetime import date

from bot.domain.actions import STATUS_LABELS, Action, Amendment, AmendmentKind
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.cases import CaseDetail, CaseView, Meeting
from bot.domain.clock import LONDON
from bot.domain.lifecycle import AWAITING_CONFERENCE
from bot.domain.referral import RELATIONSHIPS, criteria_text
from bot.domain.wording import plural
from cards.common import Card, Element, day, envelope, facts, heading, moment, text
from cards.discussion import discussion_elements
from cards.returns import return_elements

FALLBACK = "A MARAT case summary is ready."


def conference_text(case: CaseView) -> str:
    """Where the case is heard: its listing while it waits, then where the plan was agreed;
    never a future conference for a case that is no longer waiting for one."""
    if case.state in AWAITING_CONFERENCE:
        if case.listing.meeting_date:
            return day(case.listing.meeting_date)
        return "waiting for a conference with capacity"
    if case.heard_meeting_date:
        return f"heard at the conference of {day(case.heard_meeting_date)}"
    if case.heard_at:
        return f"plan agreed outside a conference on {day(case.heard_at.astimezone(LONDON).date())}"
    return f"none (the case is {case.state.value})"


def amendment_text(amendment: Amendment, names: dict[str, str], people: dict[str, str]) -> str:
    """One amendment of an agreed action, as its history reads."""
    who = people.get(amendment.by, "someone")
    when = moment(amendment.at)
    why = f": {amendment.reason}" if amendment.reason else ""
    if amendment.kind is AmendmentKind.ADDED:
        what = "added to the agreed plan"
    elif amendment.kind is AmendmentKind.DUE_DATE:
        before = day(date.fromisoformat(amendment.before)) if amendment.before else "?"
        after = day(date.fromisoformat(amendment.after)) if amendment.after else "?"
        what = f"due date moved from {before} to {after}"
    elif amendment.kind is AmendmentKind.AGENCY:
        before = names.get(amendment.before or "", amendment.before or "?")
        after = names.get(amendment.after or "", amendment.after or "?")
        what = f"given to {after} (was {before})"
    else:
        what = "withdrawn"
    return f"{what[0].upper()}{what[1:]} by {who}, {when}{why}"


def _action_lines(detail: CaseDetail, action: Action) -> list[Element]:
    names, case = detail.agency_names, detail.case
    if not action.agreed:
        state = "draft (plan not agreed)"
    elif not case.state.is_open and not action.status.is_closed:
        state = f"{STATUS_LABELS[action.status]} (the case is {case.state.value})"
    else:
        state = STATUS_LABELS[action.status]
    line = (
        f"**{names.get(action.agency_key, action.agency_key)}**: "
        f"{action.description} · due {day(action.due)} · {state}"
    )
    if action.updated_at and action.updated_by:
        who = detail.action_updaters.get(action.updated_by, "someone")
        line += f" · updated by {who}, {moment(action.updated_at)}"
        if action.note:
            line += f": {action.note}"
    history = [
        text(amendment_text(a, names, detail.people), subtle=True, spacing="None")
        for a in detail.amendments
        if a.action_id == action.id
    ]
    return [text(line), *history]


def case_card(
    detail: CaseDetail, calendar: WorkingDayCalendar, today: date, show_referrer_detail: bool
) -> Card:
    """The `/case` summary: facts, returns, discussion, actions and timeline; what a contact
    sees of other agencies is left out (``show_referrer_detail`` is the coordinator's view)."""
    case, referral, d = detail.case, detail.case.referral, detail.case.deadlines
    names = detail.agency_names
    closed_as = None if case.state.is_open else case.state.value
    target = day(d.conference_target) + (" (missed)" if case.listing.breach else "")
    body: list[Element] = [
        heading(f"{case.reference} · {case.state.value}"),
        facts(
            [
                ("Victim", referral.victim_name),
                ("Criteria", criteria_text(referral.criteria, referral.dash_score)),
                ("Repeat", _repeat(case, show_referrer_detail)),
                ("Children", str(referral.children_count)),
                ("Relationship", RELATIONSHIPS.get(referral.relationship, referral.relationship)),
                ("Referred by", names.get(referral.referring_agency, referral.referring_agency)),
                (
                    "Working days since day 0",
                    str(case.working_days_since_day_zero(calendar, today)),
                ),
                ("Case discussion", day(d.discussion)),
                ("Conference", conference_text(case)),
                ("Day-14 target", target),
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
            body.append(text("Summary of risk", bold=True, spacing="Large"))
            body.append(text(referral.summary))
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
        form, buttons = discussion_elements(
            detail.discussion_token,
            case.reference,
            d.discussion,
            {k: names.get(k, k) for k in case.agencies},
        )
        # The button sits right under its form, not at the foot of the whole card.
        body.extend([*form, {"type": "ActionSet", "actions": buttons}])
    if detail.actions:
        body.append(text("Actions", bold=True, spacing="Large"))
        if case.state.is_open:
            open_count = sum(a.agreed and not a.status.is_closed for a in detail.actions)
            body.append(text(plural(open_count, "open action"), subtle=True, spacing="None"))
        for action in detail.actions:
            body.extend(_action_lines(detail, action))
    body.append(text("Information returns", bold=True, spacing="Large"))
    body.extend(return_elements(detail.returns, names, closed_as))
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
                    t.to_state.value
                    + (f": {t.reason}" if t.reason else "")
                    + f" · {detail.people.get(t.actor_aad_id, 'someone')}",
                )
                for t in detail.transitions
            ]
        )
    )
    return envelope(body, fallback_text=FALLBACK)


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
    body.extend(
        text(f"{day(m.date)} · {m.listed} of {plural(m.capacity, 'place')} taken") for m in meetings
    )
    return envelope(body, fallback_text="A MARAT conference list is ready.")

"""The help card: what this user may do (it differs by role)."""

from __future__ import annotations

from bot.domain.directory import Person
from cards.common import Card, envelope, facts, heading, text

COORDINATOR_COMMANDS = (
    ("refer", "Open a referral card and create a case."),
    ("agenda [next|today|YYYY-MM-DD]", "A conference's agenda and the day's case discussions."),
    ("agenda YYYY-MM-DD pack", "The conference pack: each case's summary, returns and actions."),
    ("case REF", "A case's summary, every agency's return and the timeline."),
    ("cases", "Open cases, missed targets first."),
    ("plan REF", "The action plan: add actions, agree it, then amend it between conferences."),
    ("actions [mine|overdue]", "Open actions of every case, or yours, or overdue ones."),
    ("review REF REASON", "Risk not reduced: re-list the case at the next conference."),
    ("defer REF REASON", "List the case again at a later conference."),
    ("withdraw REF REASON", "The referral does not meet the threshold."),
    ("close REF [REASON]", "Close the case (a reason is needed while actions are open)."),
    (
        "report [YYYY-MM-DD YYYY-MM-DD]",
        "Partnership figures for a period (default: the last complete quarter).",
    ),
    ("meeting add YYYY-MM-DD [capacity]", "Add a conference date (or change its capacity)."),
    ("meeting list", "Coming conferences and their places."),
    ("agency add NAME", "Add an agency (or restore a removed one)."),
    ("agency remove KEY", "Stop offering an agency on referrals; its cases keep their history."),
    ("agency list", "Agencies, their keys and contacts, and who I can reach."),
    ("contact add|remove AGENCY-KEY @person|e-mail", "Make someone an agency contact, or stop."),
    ("coordinator add|remove @person|e-mail", "Give or take away the coordinator role."),
    ("help", "This list."),
)
CONTACT_COMMANDS = (
    ("agenda [next|today|YYYY-MM-DD]", "The cases your agency is involved in at a conference."),
    ("actions [overdue]", "Your agency's open actions."),
    ("case REF", "A case your agency is involved in."),
    ("help", "This list."),
)


def commands_for(person: Person) -> tuple[tuple[str, str], ...]:
    """The commands this person's role allows."""
    return COORDINATOR_COMMANDS if person.is_coordinator else CONTACT_COMMANDS


def help_card(person: Person, agency_names: dict[str, str], intro: str | None = None) -> Card:
    """What this person may do, with their roles (and an introduction, if given)."""
    roles = []
    if person.is_coordinator:
        roles.append("MARAT coordinator")
    if person.agency_keys:
        names = sorted(agency_names.get(k, k) for k in person.agency_keys)
        roles.append("contact for " + ", ".join(names))
    body = [heading("MARAT bot")]
    if intro:
        body.append(text(intro))
    if roles:
        body.append(text(f"You are registered as {' and '.join(roles)}.", subtle=True))
    else:
        body.append(
            text(
                "You are registered with the MARAT but have no role at the moment "
                "(your agency may have been removed). Please ask your coordinator.",
                subtle=True,
            )
        )
    body.append(facts(list(commands_for(person))))
    body.append(
        text(
            "Type a command in this chat (the / is optional). In a channel, @mention "
            "me; case details are only ever shown in a 1:1 chat.",
            subtle=True,
        )
    )
    return envelope(body, fallback_text="MARAT bot help.")


def not_registered_text(help_contact: str) -> str:
    """The only answer someone outside the directory gets: who to ask."""
    return (
        f"You are not registered with the MARAT, so I cannot help with this. "
        f"Please ask {help_contact} to add you to the directory."
    )

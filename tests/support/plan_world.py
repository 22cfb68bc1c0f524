"""A case through its action plan: the information-request loop plus the plan card, action cards
and the coordinator's notices."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.domain.actions import Action, Amendment
from bot.domain.clock import FixedClock
from bot.domain.directory import DirectoryRow, Role
from bot.services.actions import ACTION_REMINDERS as ACTION_KINDS
from bot.teams.outbox_sender import OutboxSender
from storage.models import ActionUpdateRow, AuditRow, CaseRow, OutboxRow, TransitionRow
from tests.support.builders import COORDINATOR, HOUSING_CONTACT, POLICE_CONTACT
from tests.support.loop import Delivered, Loop, facts_of, notices
from tests.support.turns import CARD, TurnHarness, card_text, inputs_of

PROBATION_CONTACT = "44444444-4444-4444-8444-444444444444"
SECOND_COORDINATOR = "55555555-5555-4555-8555-555555555555"
CONFERENCE = date(2027, 1, 14)
LATER_CONFERENCES = (date(2027, 2, 11), date(2027, 2, 25))
AT_CONFERENCE = datetime(2027, 1, 14, 10, 0, tzinfo=UTC)

ADD, REMOVE, AGREE, UPDATE = "plan.add_action", "plan.remove_action", "plan.agree", "action.update"
PLAN_INPUTS = {"agency", "description", "due_date", "perpetrator_focused"}
ORDER = "Police to serve the non-molestation order on the person causing harm"
LOCKS = "Housing to fit additional locks at the victim's address"
POLICE_ACTION = {
    "agency": "police",
    "description": ORDER,
    "due_date": "2027-01-20",
    "perpetrator_focused": "yes",
}
HOUSING_ACTION = {
    "agency": "housing",
    "description": LOCKS,
    "due_date": "2027-01-27",
    "perpetrator_focused": "no",
}
STALE = (
    "The plan was updated by someone else; here is the current version. Please check it and "
    "try again."
)
ACTION_NEUTRAL = "A MARAT action needs your update"
PACING = timedelta(minutes=1)  # Teams' per-chat limits hold a message back for seconds


# -- reading cards ------------------------------------------------------------------------------


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def button(card: dict[str, Any], verb: str) -> dict[str, Any]:
    """The card's Action.Execute with ``verb`` (top-level actions or ActionSets)."""
    found = [
        node
        for node in walk({"body": card.get("body", []), "actions": card.get("actions", [])})
        if node.get("type") == "Action.Execute" and node.get("verb") == verb
    ]
    assert found, f"no {verb} button on {card_text(card)!r}"
    return found[-1]


def has_button(card: dict[str, Any], verb: str) -> bool:
    everything = {"body": card.get("body", []), "actions": card.get("actions", [])}
    return any(n.get("verb") == verb for n in walk(everything))


def row_button(card: dict[str, Any], description: str, verb: str) -> dict[str, Any]:
    """The button with ``verb`` on the row of the action with ``description``."""
    for node in walk(card.get("body", [])):
        if (
            node.get("type") == "ColumnSet"
            and description in card_text({"body": [node]})
            and has_button({"body": [node]}, verb)
        ):
            return button({"body": [node]}, verb)
    raise AssertionError(f"no {verb} for {description!r} on {card_text(card)!r}")


def remove_button(card: dict[str, Any], description: str) -> dict[str, Any]:
    """The Remove button on the row of the draft action with ``description``."""
    return row_button(card, description, REMOVE)


def texts_in_order(card: dict[str, Any]) -> list[str]:
    return [str(n["text"]) for n in walk(card.get("body", [])) if isinstance(n.get("text"), str)]


def timeline_of(card: dict[str, Any]) -> list[tuple[str, str]]:
    """The case card's timeline, oldest first, as (London time, what happened)."""
    body = card["body"]
    for index, element in enumerate(body):
        if element.get("type") == "TextBlock" and element.get("text") == "Timeline":
            facts = body[index + 1]["facts"]
            return [(str(f["title"]), str(f["value"])) for f in facts]
    raise AssertionError("the case card has no timeline")


def told(world: Loop, aad: str, needle: str) -> list[str]:
    """The texts sent to ``aad`` that mention ``needle``, spaces normalised; each must open
    with a neutral line (Teams shows the first line in notification previews)."""
    found = []
    for message in notices(world, aad, needle):
        first_line = message.strip().splitlines()[0]
        assert "MARAT-" not in first_line, f"the preview line names a case: {first_line!r}"
        found.append(" ".join(message.split()))
    return found


def drafts_shown(card: dict[str, Any]) -> list[str]:
    """The draft actions' lines on the plan card."""
    return [
        card_text({"body": [n]})
        for n in walk(card.get("body", []))
        if n.get("type") == "ColumnSet" and has_button({"body": [n]}, REMOVE)
    ]


# -- the world: a harness, an in-memory Teams and a few people ---------------------------------


@dataclass(frozen=True)
class StateChange:
    """A stored transition of a case."""

    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    reason: str | None


@dataclass(frozen=True)
class ActionCard:
    """An action card someone received proactively."""

    delivered: Delivered

    @property
    def card(self) -> dict[str, Any]:
        return self.delivered.card

    @property
    def token(self) -> str:
        return str(button(self.card, UPDATE)["data"]["token"])

    @property
    def description(self) -> str:
        return facts_of(self.card)["Action"]


class Plans(Loop):
    """The turn harness, the outbox sender and a fake Teams, with the plan card's verbs.

    The sender runs on its own fake clock, which catches up with the bot's before each sweep
    and then moves through Teams' per-chat pacing, so that several messages to one person are
    all delivered without moving the bot's clock (the times the cards show stay put).
    """

    def __init__(self, harness: TurnHarness) -> None:
        super().__init__(harness)
        self.sender_clock = FixedClock(harness.clock.now())
        self.sender = OutboxSender(
            harness.runtime.deps.context.units, self.messenger, self.sender_clock
        )

    async def deliver(self) -> None:
        """Sweep the outbox until nothing is left but messages due well in the future."""
        self.sender_clock.set(max(self.sender_clock.now(), self.harness.clock.now()))
        for _ in range(100):
            if await self.sender.deliver_due():
                continue
            async with self.harness.runtime.database.engine.connect() as connection:
                due = await connection.scalar(
                    select(func.min(OutboxRow.next_attempt_at)).where(OutboxRow.status == "pending")
                )
            if due is None or due - self.sender_clock.now() > PACING:
                return
            self.sender_clock.set(max(due, self.sender_clock.now()))
        raise AssertionError("the outbox never ran dry")

    async def plan(self, reference: str, aad: str = COORDINATOR) -> dict[str, Any]:
        return await self.chat(aad).card(f"plan {reference}")

    async def click(self, aad: str, action: dict[str, Any], **inputs: str) -> dict[str, Any]:
        """Action.Execute of ``action`` with the card's inputs; returns the replacement card."""
        body = await self.chat(aad).execute(action["verb"], {**action["data"], **inputs})
        assert body.type == CARD, body
        card: dict[str, Any] = body.value
        return card

    async def add(self, card: dict[str, Any], aad: str = COORDINATOR, **inputs: str) -> Any:
        return await self.click(aad, button(card, ADD), **inputs)

    async def agree(self, card: dict[str, Any], aad: str = COORDINATOR) -> dict[str, Any]:
        return await self.click(aad, button(card, AGREE))

    async def remove(
        self, card: dict[str, Any], description: str, aad: str = COORDINATOR
    ) -> dict[str, Any]:
        return await self.click(aad, remove_button(card, description))

    async def amend_form(
        self, card: dict[str, Any], description: str, aad: str = COORDINATOR
    ) -> dict[str, Any]:
        """Press "Change or withdraw" on the agreed action's row: the card with its form."""
        return await self.click(aad, row_button(card, description, OPEN))

    async def change(
        self, card: dict[str, Any], description: str, aad: str = COORDINATOR, **inputs: str
    ) -> dict[str, Any]:
        """Save the change form of an agreed action, its prefilled values and ``inputs``."""
        form = await self.amend_form(card, description)
        prefilled = {k: str(v.get("value", "")) for k, v in inputs_of(form).items()}
        return await self.click(aad, button(form, CHANGE), **{**prefilled, **inputs})

    async def withdraw(
        self, card: dict[str, Any], description: str, aad: str = COORDINATOR, **inputs: str
    ) -> dict[str, Any]:
        form = await self.amend_form(card, description)
        prefilled = {k: str(v.get("value", "")) for k, v in inputs_of(form).items()}
        return await self.click(aad, button(form, WITHDRAW), **{**prefilled, **inputs})

    async def add_agreed(
        self, card: dict[str, Any], aad: str = COORDINATOR, **inputs: str
    ) -> dict[str, Any]:
        """Add an action from an agreed plan's add form."""
        return await self.click(aad, button(card, ADD), **inputs)

    def updates_of(self, delivered: Delivered) -> list[dict[str, Any]]:
        """The in-place updates of a card someone received, oldest first."""
        return [
            u.message.card
            for u in self.messenger.updates
            if u.activity_id == delivered.activity_id and u.message.card is not None
        ]

    async def agreed_case(self, *actions: dict[str, str]) -> str:
        """A case referred on 4 Jan whose plan was agreed at its conference on 14 Jan, with
        the action cards delivered."""
        reference = await self.refer()
        self.harness.clock.set(AT_CONFERENCE)
        card = await self.plan(reference)
        for inputs in actions or (POLICE_ACTION, HOUSING_ACTION):
            card = await self.add(card, **inputs)
        agreed = await self.agree(card)
        assert f"Plan agreed · {reference}" in card_text(agreed), card_text(agreed)
        await self.deliver()
        return reference

    def action_cards(self, aad: str, reference: str) -> dict[str, ActionCard]:
        """The open action cards ``aad`` received for the case, by agency name."""
        found: dict[str, ActionCard] = {}
        for delivered in self.sent_to(aad):
            card = delivered.message.card
            if card is None or "status" not in inputs_of(card):
                continue
            if facts_of(card).get("Case") != reference:
                continue
            agency = str(card["body"][0]["text"]).removeprefix("MARAT action for ")
            assert agency not in found, "one card per agency and contact"
            found[agency] = ActionCard(delivered)
        return found

    async def update(self, aad: str, token: str, **inputs: str) -> dict[str, Any]:
        body = await self.chat(aad).execute(UPDATE, {"token": token, "verb": UPDATE, **inputs})
        assert body.type == CARD, body
        card: dict[str, Any] = body.value
        return card

    async def actions(self, reference: str) -> dict[str, Action]:
        """What the database holds for the case's actions, by agency key."""
        async with self.harness.runtime.database.engine.connect() as connection:
            case_id = await connection.scalar(
                select(CaseRow.id).where(CaseRow.reference == reference)
            )
        assert case_id is not None, reference
        async with self.harness.deps.context.units() as uow:
            rows = await uow.actions.for_case(case_id)
        return {a.agency_key: a for a in rows}

    async def case_state(self, reference: str) -> tuple[str, datetime | None, int | None]:
        async with self.harness.runtime.database.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(CaseRow.state, CaseRow.heard_at, CaseRow.heard_meeting_id).where(
                        CaseRow.reference == reference
                    )
                )
            ).one()
        return str(row.state), row.heard_at, row.heard_meeting_id

    async def transitions(self, reference: str) -> list[StateChange]:
        """The case's state transitions as stored, oldest first (read without the case view)."""
        async with self.harness.runtime.database.engine.connect() as connection:
            rows = await connection.execute(
                select(
                    TransitionRow.from_state,
                    TransitionRow.to_state,
                    TransitionRow.actor,
                    TransitionRow.at,
                    TransitionRow.reason,
                )
                .join(CaseRow, CaseRow.id == TransitionRow.case_id)
                .where(CaseRow.reference == reference)
                .order_by(TransitionRow.at, TransitionRow.id)
            )
            return [StateChange(*row) for row in rows]

    async def history(self, action_id: int) -> list[tuple[str, str | None, str]]:
        async with self.harness.runtime.database.engine.connect() as connection:
            rows = await connection.execute(
                select(ActionUpdateRow.status, ActionUpdateRow.note, ActionUpdateRow.by)
                .where(ActionUpdateRow.action_id == action_id)
                .order_by(ActionUpdateRow.id)
            )
            return [(r.status, r.note, r.by) for r in rows]

    async def reminders_of(self, action_id: int) -> list[tuple[str, date, str]]:
        """(kind, slot, state) of an action's reminders, by due time."""
        async with self.harness.deps.context.units() as uow:
            items = await uow.reminders.for_subject(list(ACTION_KINDS), action_id)
        return [(i.kind.value, i.slot, i.state.value) for i in items]

    async def amendments(self, reference: str) -> list[Amendment]:
        async with self.harness.deps.context.units() as uow:
            case = await uow.cases.by_reference(reference)
            assert case is not None
            return await uow.actions.amendments(case.id)

    async def audit(self, action: str) -> list[tuple[str, str, str]]:
        """(actor, role, outcome) of the audit records of ``action``, oldest first."""
        async with self.harness.runtime.database.engine.connect() as connection:
            rows = await connection.execute(
                select(AuditRow.actor, AuditRow.role, AuditRow.outcome)
                .where(AuditRow.action == action)
                .order_by(AuditRow.id)
            )
            return [(r.actor, r.role, r.outcome) for r in rows]


async def plans_world(harness: TurnHarness) -> Plans:
    """Police, Housing and Probation contacts, a second coordinator (no agency) and the
    coordinator have each talked to the bot in their own 1:1 chat; three conferences."""
    await harness.deps.directory.import_directory(
        [
            DirectoryRow(1, "Probation", "Pip Probation", None, PROBATION_CONTACT, Role.CONTACT),
            DirectoryRow(2, None, "Cam Cochair", None, SECOND_COORDINATOR, Role.COORDINATOR),
        ]
    )
    for day in (CONFERENCE, *LATER_CONFERENCES):
        await harness.add_meeting(day)
    world = Plans(harness)
    people = (COORDINATOR, SECOND_COORDINATOR, POLICE_CONTACT, HOUSING_CONTACT, PROBATION_CONTACT)
    for aad in people:
        assert await world.chat(aad).say("help"), f"{aad} got no help"
    return world


# -- agreed plans: their forms -----------------------------------------------------------------

OPEN, CHANGE, WITHDRAW = "plan.open_amendment", "plan.change_action", "plan.withdraw_action"
AMEND_INPUTS = {"due_date", "agency", "reason"}


def returns_of(card: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The case card's information returns by agency: its state and what it returned."""
    found: dict[str, dict[str, str]] = {}
    body = card["body"]
    start = next(
        i
        for i, e in enumerate(body)
        if e.get("type") == "TextBlock" and e["text"] == "Information returns"
    )
    for element in body[start + 1 :]:
        if element.get("type") != "Container":
            break
        facts = [f for item in element["items"] for f in item.get("facts", [])]
        agency, *detail = facts
        found[str(agency["title"])] = {"state": str(agency["value"])} | {
            str(f["title"]): str(f["value"]) for f in detail
        }
    return found

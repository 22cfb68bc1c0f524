"""Writing proactive messages to the outbox inside the use case's transaction.

A message is written with the change that causes it, so it is sent if and only if the change
commits; the outbox sender (bot/teams/outbox_sender.py) delivers it later. Keys make every
write idempotent: a replayed step cannot queue a second copy.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain.delivery import OutgoingMessage
from bot.domain.directory import Person
from bot.ports import UnitOfWork

CARD = "card"
TEXT = "text"
UPDATE = "update"
NOTICE_PREFIX = "notice:"
PRIVATE_PREFIX = "private:"  # detail asked for in a channel, sent to the asker's 1:1 chat
NOTICE_HEADLINE = "A MARAT update needs your attention."


def encode(message: OutgoingMessage) -> str:
    """The outbox payload of a message."""
    return json.dumps({"text": message.text, "card": message.card, "summary": message.summary})


def decode(payload: str) -> OutgoingMessage:
    """The message an outbox payload holds."""
    data: dict[str, Any] = json.loads(payload)
    return OutgoingMessage(data.get("text"), data.get("card"), data.get("summary"))


def information_request_key(request_id: int, contact: str) -> str:
    """The outbox key of one contact's copy of an information request."""
    return f"inforeq:{request_id}:{contact}"


def action_key(action_id: int, contact: str) -> str:
    """The outbox key of one contact's copy of an action card."""
    return f"action:{action_id}:{contact}"


async def enqueue(
    uow: UnitOfWork,
    key: str,
    recipient: str,
    message: OutgoingMessage,
    at: datetime,
    case_id: int | None = None,
    replaces_key: str | None = None,
) -> bool:
    """Write a message to the outbox in the caller's transaction (idempotent by ``key``).

    With ``replaces_key`` it is an update of that earlier card rather than a new message.
    """
    kind = UPDATE if replaces_key else (CARD if message.card else TEXT)
    return await uow.outbox.enqueue(
        key, recipient, kind, encode(message), at, case_id, replaces_key
    )


async def replace_card(
    uow: UnitOfWork,
    key: str,
    recipient: str,
    message: OutgoingMessage,
    at: datetime,
    case_id: int | None = None,
) -> None:
    """Bring a card someone was sent up to date: rewrite it if it has not gone yet, else
    queue an in-place update of the delivered one (and nothing if it never arrived)."""
    if await uow.outbox.replace_pending_payload(key, encode(message)):
        return
    if await uow.outbox.status(key) == "sent":
        await enqueue(
            uow, f"{key}:update:{at.isoformat()}", recipient, message, at, case_id, replaces_key=key
        )


def notice(text: str) -> OutgoingMessage:
    """A text message whose first line (what Teams previews show) is neutral; the details,
    which may name a person or a case reference, come after it."""
    return OutgoingMessage(text=f"{NOTICE_HEADLINE}\n\n{text}", summary=NOTICE_HEADLINE)


async def coordinators_for(uow: UnitOfWork, only: str | None) -> list[Person]:
    """The case's coordinator (``only``) while still a coordinator, else every coordinator:
    a message for "the coordinator" must never go to nobody."""
    coordinators = await uow.directory.coordinators()
    return [c for c in coordinators if c.aad_object_id == only] or coordinators


async def agency_names(uow: UnitOfWork) -> dict[str, str]:
    """Every agency's display name by key, removed ones included (older cases name them)."""
    return {a.key: a.name for a in await uow.directory.agencies(include_removed=True)}


async def notify_coordinators(
    uow: UnitOfWork,
    key: str,
    text: str,
    at: datetime,
    case_id: int | None = None,
    only: str | None = None,
) -> None:
    """Tell the case's coordinator (``only``, if still a coordinator) or every coordinator."""
    for person in await coordinators_for(uow, only):
        await enqueue(
            uow,
            f"{NOTICE_PREFIX}{key}:{person.aad_object_id}",
            person.aad_object_id,
            notice(text),
            at,
            case_id,
        )


async def notify_contacts(
    uow: UnitOfWork,
    key: str,
    agency_keys: tuple[str, ...] | list[str],
    text: str,
    at: datetime,
    case_id: int | None = None,
) -> None:
    """Tell every contact of the agencies once (a contact of two agencies gets one copy)."""
    seen: set[str] = set()
    for agency in agency_keys:
        for contact in await uow.directory.contacts_of(agency):
            if contact.aad_object_id in seen:
                continue
            seen.add(contact.aad_object_id)
            await enqueue(
                uow,
                f"{key}:{contact.aad_object_id}",
                contact.aad_object_id,
                notice(text),
                at,
                case_id,
            )

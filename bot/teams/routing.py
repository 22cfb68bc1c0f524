"""Exact command matching: the first word names the command, the rest are its arguments.

No substring routing: "please refer this" is not `/refer`. The leading "/" is optional because
Teams' command menu inserts the bare word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Command:
    name: str
    args: str


def parse_command(text: str | None, known: frozenset[str]) -> Command | None:
    """The command if the first word is one of ``known``, else None (the help card answers)."""
    words = (text or "").strip().split(maxsplit=1)
    if not words:
        return None
    name = words[0].lower()
    name = name.removeprefix("/")
    if name not in known:
        return None
    return Command(name, words[1].strip() if len(words) > 1 else "")


def strip_bot_mention(text: str | None, entities: list[Any] | None, bot_id: str | None) -> str:
    """Remove the bot's own @mention ("<at>MARAT</at> agenda" -> "agenda"), keeping others.

    Mentions arrive either as generic entities (``additional_properties``) or as ``Mention``
    models, depending on how the activity was built; botbuilder's helper handles only one.
    """
    result = text or ""
    for entity in entities or []:
        if getattr(entity, "type", None) != "mention":
            continue
        mentioned_id, _name, mention_text = _mention_parts(entity)
        if mentioned_id == bot_id and mention_text:
            result = result.replace(mention_text, " ")
    return " ".join(result.split())


def _mention_parts(entity: Any) -> tuple[str | None, str | None, str | None]:
    extra = getattr(entity, "additional_properties", None) or {}
    mentioned = getattr(entity, "mentioned", None) or extra.get("mentioned") or {}
    if isinstance(mentioned, dict):
        user_id, name = mentioned.get("id"), mentioned.get("name")
    else:
        user_id, name = getattr(mentioned, "id", None), getattr(mentioned, "name", None)
    return user_id, name, getattr(entity, "text", None) or extra.get("text")


def mentioned_people(entities: list[Any] | None, bot_id: str | None) -> list[tuple[str, str]]:
    """(chat user id, display name) of everyone @mentioned except the bot, in order."""
    people: list[tuple[str, str]] = []
    for entity in entities or []:
        if getattr(entity, "type", None) != "mention":
            continue
        user_id, name, _text = _mention_parts(entity)
        if user_id and user_id != bot_id:
            people.append((str(user_id), str(name or "")))
    return people

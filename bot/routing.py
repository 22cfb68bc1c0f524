"""Exact command matching: the first word names the command, the rest are its arguments.

No substring routing: "please refer this" is not `/refer`. The leading "/" is optional because
Teams' command menu inserts the bare word.
"""

from __future__ import annotations

from dataclasses import dataclass


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

"""Figures a test suite wants in CI's output (e.g. ``security: 64 attacks tried, 0 accepted``).

A test calls ``report(topic, line)``; the root conftest prints every reported line in pytest's
terminal summary, so the figures show even with ``-q``. A topic reported twice keeps the last.
"""

from __future__ import annotations

_LINES: dict[str, str] = {}


def report(topic: str, line: str) -> None:
    """Show ``line`` (e.g. "reliability: 240 faults injected, 0 lost") at the end of the run."""
    _LINES[topic] = line


def lines() -> list[str]:
    """Everything reported so far, by topic."""
    return [_LINES[topic] for topic in sorted(_LINES)]

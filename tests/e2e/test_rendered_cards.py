"""Every card the bot can send, drawn by the official Adaptive Cards renderer (the library
Teams uses) in headless Chromium with the Teams light host config, at a desktop width and at a
phone's width. A parse or validation warning, an input without a label, or anything wider than
the card fails the test: Teams would drop the element, or the card would not fit.

Needs ``npm ci --prefix tests/e2e`` (the renderer) and Debian's chromium (CI installs both).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.card_catalogue import catalogue
from tests.support.renderer import DESKTOP, MOBILE, Rendered, render, renderer_missing

pytestmark = pytest.mark.e2e

CARDS = catalogue()


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, int], Rendered]:
    """One browser draws the whole catalogue at both widths (about 5 s)."""
    missing = renderer_missing()
    if missing:
        pytest.fail(missing, pytrace=False)
    results = asyncio.run(render(list(CARDS.items()), (DESKTOP, MOBILE)))
    return {(r.name, r.width): r for r in results}


@pytest.mark.parametrize("width", [DESKTOP, MOBILE], ids=["desktop", "mobile"])
@pytest.mark.parametrize("name", sorted(CARDS))
def test_the_official_renderer_draws_the_card_without_a_warning(
    rendered: dict[tuple[str, int], Rendered], name: str, width: int
) -> None:
    assert rendered[(name, width)].problems == []


BROKEN: dict[str, Any] = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "fallbackText": "A MARAT test card.",
    "body": [
        {"type": "TextBlock", "text": "x" * 400, "wrap": False},
        {"type": "Input.Text", "id": "unlabelled"},
        {"type": "Image.Unknown", "url": "http://127.0.0.1/none.png"},
        {"type": "TextBlock", "text": "Huge", "size": "Huge"},
    ],
}


def test_the_checks_catch_a_broken_card() -> None:
    """The same checks on a card that breaks each rule: they are not vacuous."""
    missing = renderer_missing()
    if missing:
        pytest.fail(missing, pytrace=False)
    (result,) = asyncio.run(render([("broken", BROKEN)], (MOBILE,)))
    text = "\n".join(result.problems)
    assert "UnknownElementType" in text
    assert "InvalidPropertyValue" in text
    assert "input without a label: unlabelled" in text
    assert f"wider than the card at {MOBILE} px" in text

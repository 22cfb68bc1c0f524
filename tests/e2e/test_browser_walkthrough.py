"""The README's walkthrough in the real Agents Playground page, in a browser, as a person does
it: type refer, fill the card by its labels, submit, read the recorded card, answer the
information request that arrives, type agenda and see the case with 1/n returns, open the
case and read the returned information.

Screenshots of each step go to ``artifacts/browser-walkthrough/`` (kept by CI; set
``MARAT_SCREENSHOTS`` to write them elsewhere, e.g. ``docs/walkthrough`` to refresh the
README's pictures). No request leaves 127.0.0.1. Every name is fictional.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.ops.launcher import Stack
from tests.support.playground_page import PlaygroundPage, open_playground
from tests.support.renderer import ROOT, renderer_missing
from tests.support.summary import report

pytestmark = pytest.mark.e2e

RECORDED = re.compile(r"Referral recorded: (MARAT-\d{4}-\d{4})")
RETURNED = "Two call-outs in 2026, no injuries recorded (synthetic)."


def screenshots() -> Path:
    return Path(os.environ.get("MARAT_SCREENSHOTS") or ROOT / "artifacts" / "browser-walkthrough")


async def refer(page: PlaygroundPage) -> str:
    await page.say("refer")
    card = await page.wait_card("New MARAC referral")
    await page.fill(card, "Victim's full name", "Robin Walkthrough")
    await page.fill_date(card, "Victim's date of birth", "1988-03-09")
    await page.choose(card, "Relationship to the victim", "Ex-partner")
    await page.choose(card, "Referring agency", "Police")
    await page.choose(card, "Referral criteria", "Visible high risk (DASH 14+)")
    await page.fill(card, "DASH score (0 to 24)", "17")
    await page.fill(card, "Summary of risk", "Synthetic summary for the browser walkthrough.")
    await page.pick(card, "Yes")
    await page.shot("referral-filled", card)
    await page.press(card, "Submit referral")
    recorded = await page.wait_card(RECORDED)
    text = await recorded.inner_text()
    await page.shot("referral-recorded", recorded)
    match = RECORDED.search(text)
    assert match, text
    assert "Case discussion" in text and "Day-14 target" in text
    return match.group(1)


async def test_the_readme_walkthrough_in_the_playground_page(stack: Stack) -> None:
    missing = renderer_missing()
    if missing:
        pytest.fail(missing, pytrace=False)
    async with open_playground(stack.playground.url, screenshots()) as page:
        reference = await refer(page)

        request = await page.wait_card(re.compile(rf"For Police:(.|\n)*{reference}"))
        await page.pick(request, "Yes, we hold information")
        await page.fill(request, "What your agency holds", RETURNED)
        await page.press(request, "Send answer")
        answered = await page.wait_card("You answered for Police on")
        assert reference in await answered.inner_text()
        await page.shot("information-answered", answered)

        await page.say("agenda")
        agenda = await page.wait_card(re.compile(rf"{reference}(.|\n)*returns 1/\d+"))
        await page.shot("agenda", agenda)

        await page.say(f"case {reference}")
        case = await page.wait_card(re.compile(rf"{reference} · \w+.*Timeline"))
        shown = await case.inner_text()
        assert "Information returns" in shown
        assert RETURNED in shown, "the coordinator reads the research the agency returned"
        await page.shot("case", case)

    assert all("127.0.0.1" not in url for url in page.blocked)
    report(
        "browser",
        f"browser walkthrough: {len(page.shots)} steps in the Playground page, "
        f"screenshots in {screenshots()}",
    )

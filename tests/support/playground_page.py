"""The Agents Playground's web page, driven by Playwright in Debian's headless Chromium as a
person would use it: type in the composer, fill a card by its labels, press its buttons.

Selectors are the page's accessible names and roles (its CSS classes are hashed), plus the
Adaptive Cards renderer's own ``.ac-adaptiveCard`` class. Every request that would leave
127.0.0.1 is aborted in the browser context (the page asks a CDN for fonts; it falls back).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import BrowserContext, Locator, Page, Route, async_playwright

from tests.support.renderer import CHROMIUM, CHROMIUM_ARGS

COMPOSER = "[data-lexical-editor='true']"
CARD = ".ac-adaptiveCard"
TIMEOUT_MS = 15_000


class PlaygroundPage:
    """One person (Alex Wilber) in the Playground's personal chat with the bot."""

    def __init__(self, page: Page, screenshots: Path) -> None:
        self.page = page
        self.screenshots = screenshots
        self.blocked: list[str] = []
        self.shots: list[Path] = []

    async def say(self, text: str) -> None:
        """Type a message in the composer and send it with Enter."""
        composer = self.page.locator(COMPOSER)
        await composer.click()
        await composer.type(text)
        await self.page.keyboard.press("Enter")

    def card(self, containing: str | re.Pattern[str]) -> Locator:
        """The newest card whose text contains ``containing``."""
        return self.page.locator(CARD).filter(has_text=containing).last

    async def wait_card(self, containing: str | re.Pattern[str]) -> Locator:
        card = self.card(containing)
        await card.wait_for(timeout=TIMEOUT_MS)
        return card

    async def fill(self, card: Locator, label: str, value: str) -> None:
        """A text or number input, found by its label."""
        await card.get_by_label(label).fill(value)

    async def fill_date(self, card: Locator, label: str, iso: str) -> None:
        """A date input (a Fluent date picker): type the date, commit it with Enter."""
        field = card.get_by_label(label)
        await field.fill(iso)
        await field.press("Enter")
        await self.page.keyboard.press("Escape")

    async def choose(self, card: Locator, label: str, option: str) -> None:
        """A compact choice set: open the combobox by its label, pick the option by name."""
        await card.get_by_role("combobox", name=label).click()
        await self.page.get_by_role("option", name=option, exact=True).click()

    async def pick(self, card: Locator, option: str) -> None:
        """An expanded choice set: click the option's label."""
        await card.get_by_text(option, exact=True).click()

    async def press(self, card: Locator, title: str) -> None:
        """A card button, by its title."""
        await card.locator(f"button[title='{title}']").click()

    async def shot(self, name: str, card: Locator | None = None) -> Path:
        """Keep a screenshot of the page (or of one card) for the CI artifacts."""
        path = self.screenshots / f"{len(self.shots) + 1:02d}-{name}.png"
        if card is not None:
            await card.scroll_into_view_if_needed()
        await self.page.screenshot(path=str(path))
        self.shots.append(path)
        return path


async def _loopback_only(route: Route, page: PlaygroundPage) -> None:
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")):
        await route.continue_()
    else:
        page.blocked.append(url)
        await route.abort()


@asynccontextmanager
async def open_playground(url: str, screenshots: Path) -> AsyncIterator[PlaygroundPage]:
    """The Playground page, loaded and ready to type in; the browser is closed afterwards."""
    screenshots.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        context: BrowserContext = await playwright.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="marat-playground-"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 1000},
        )
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            driver = PlaygroundPage(page, screenshots)

            async def route(intercepted: Route) -> None:
                await _loopback_only(intercepted, driver)

            await context.route("**/*", route)
            await page.goto(url, wait_until="networkidle")
            await page.locator(COMPOSER).wait_for(timeout=TIMEOUT_MS)
            yield driver
        finally:
            await context.close()

"""Rendering cards with the official Adaptive Cards JavaScript renderer (npm adaptivecards,
installed by ``npm ci --prefix tests/e2e``) in Debian's headless Chromium, as Teams' own
renderer draws them, with a host config of the Teams light theme.

For each card it reports the renderer's parse and validation events, inputs without a label,
and any element wider than the card, at a desktop and a mobile width. As a command it writes
the pictures of every card of the catalogue:

    .venv/bin/python -m tests.support.renderer --out docs/cards
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Route, async_playwright

ROOT = Path(__file__).resolve().parents[2]
RENDERER = (
    ROOT / "tests" / "e2e" / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.min.js"
)
HOST_CONFIG = Path(__file__).resolve().parent / "assets" / "teams-light-hostconfig.json"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
# Teams draws a card in a chat at up to about 500 px on the desktop; a phone leaves about 320.
DESKTOP, MOBILE = 500, 320

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;background:#F5F5F5;font-family:'Segoe UI','DejaVu Sans',sans-serif}
#root{box-sizing:border-box;width:%dpx;background:#fff;border:1px solid #E0E0E0;
      border-radius:4px;margin:8px;overflow:hidden}
.ac-pushButton{padding:6px 12px;margin-right:6px;border:1px solid #D1D1D1;border-radius:4px;
      background:#fff;font-family:inherit}
.ac-input{font-family:inherit;font-size:14px;box-sizing:border-box;max-width:100%%}
</style></head><body><div id="root"></div></body></html>"""

RENDER = """([card, hostConfig]) => {
  const AC = window.AdaptiveCards;
  const named = (e) => ({phase: AC.ValidationPhase[e.phase], event: AC.ValidationEvent[e.event],
                         message: e.message});
  const ac = new AC.AdaptiveCard();
  ac.hostConfig = new AC.HostConfig(hostConfig);
  const context = new AC.SerializationContext();
  let fatal = null;
  try { ac.parse(card, context); } catch (e) { fatal = String(e); }
  const parse = [];
  for (let i = 0; i < context.eventCount; i++) parse.push(named(context.getEventAt(i)));
  const validation = fatal ? [] : ac.validateProperties().validationEvents.map(named);
  const unlabelled = fatal ? [] : ac.getAllInputs().filter(i => !i.label).map(i => i.id);
  const root = document.getElementById('root');
  root.innerHTML = '';
  let tooWide = [];
  if (!fatal) {
    const element = ac.render();
    if (element) { root.appendChild(element); } else { fatal = 'render() returned nothing'; }
  }
  if (!fatal) {
    const edge = root.getBoundingClientRect().right + 1;
    for (const el of root.querySelectorAll('*')) {
      const box = el.getBoundingClientRect();
      if (box.width > 0 && (box.right > edge || el.scrollWidth > el.clientWidth + 1)
          && getComputedStyle(el).overflowX !== 'auto' && el.tagName !== 'SELECT') {
        tooWide.push((el.className || el.tagName) + ': ' + (el.innerText || '').slice(0, 60));
      }
    }
  }
  return {parse_events: parse, validation_events: validation, unlabelled_inputs: unlabelled,
          too_wide: tooWide, fatal};
}"""


@dataclass
class Rendered:
    """What the official renderer made of one card at one width."""

    name: str
    width: int
    parse_events: list[dict[str, Any]] = field(default_factory=list)
    validation_events: list[dict[str, Any]] = field(default_factory=list)
    unlabelled_inputs: list[str] = field(default_factory=list)
    too_wide: list[str] = field(default_factory=list)
    fatal: str | None = None
    png: Path | None = None

    @property
    def problems(self) -> list[str]:
        found = [f"fatal: {self.fatal}"] if self.fatal else []
        found += [f"{e['phase']} {e['event']}: {e['message']}" for e in self.parse_events]
        found += [f"{e['phase']} {e['event']}: {e['message']}" for e in self.validation_events]
        found += [f"input without a label: {i}" for i in self.unlabelled_inputs]
        found += [f"wider than the card at {self.width} px: {w}" for w in self.too_wide]
        return found


def renderer_missing() -> str | None:
    """Why cards cannot be rendered here, or None when they can."""
    if not RENDERER.exists():
        return f"{RENDERER} is missing: run `npm ci --prefix tests/e2e`"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: `apt-get install chromium` (the CI script does)"
    return None


async def _loopback_only(route: Route) -> None:
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
        await route.continue_()
    else:
        await route.abort()


async def render(
    cards: Iterable[tuple[str, dict[str, Any]]],
    widths: Sequence[int] = (DESKTOP, MOBILE),
    out: Path | None = None,
) -> list[Rendered]:
    """Render every (name, card) at each width; with ``out``, keep a PNG per card (desktop)."""
    host_config = json.loads(HOST_CONFIG.read_text(encoding="utf-8"))
    results: list[Rendered] = []
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="marat-cards-"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": max(widths) + 40, "height": 600},
        )
        try:
            await context.route("**/*", _loopback_only)
            page = context.pages[0] if context.pages else await context.new_page()
            for width in widths:
                await page.set_content(PAGE % width)
                await page.add_script_tag(path=str(RENDERER))
                for name, card in cards if isinstance(cards, list) else list(cards):
                    raw = await page.evaluate(RENDER, [card, host_config])
                    result = Rendered(name, width, **raw)
                    if out is not None and width == widths[0] and not result.fatal:
                        result.png = out / f"{name}.png"
                        await page.locator("#root").screenshot(path=str(result.png))
                    results.append(result)
        finally:
            await context.close()
    return results


def main() -> None:
    from tests.support.card_catalogue import catalogue

    parser = argparse.ArgumentParser(description="Draw every card with the official renderer.")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "cards")
    args = parser.parse_args()
    missing = renderer_missing()
    if missing:
        raise SystemExit(missing)
    results = asyncio.run(render(list(catalogue().items()), (DESKTOP,), args.out))
    bad = [r for r in results if r.problems]
    for result in bad:
        print(result.name, *result.problems, sep="\n  ")
    print(f"drew {len(results)} cards into {args.out}; {len(bad)} with problems")
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()

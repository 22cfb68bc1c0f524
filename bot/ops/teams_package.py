"""The Teams app package (`marat teams-package`): manifest, icons and command lists in a zip.

An administrator uploads it to Teams (or the Teams admin centre) to install the bot. The icons
are drawn here, so the package needs nothing outside the repository: a 192×192 colour icon and
a 32×32 outline icon (white on transparent, as Teams requires).
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any, Final

MANIFEST_VERSION: Final = "1.25"
SCHEMA: Final = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.25/MicrosoftTeams.schema.json"
)
ACCENT: Final = (0x5B, 0x2C, 0x6F)  # a deep purple, the colour of the domestic-abuse ribbon
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")

# Teams shows at most 10 commands per list; these are the ones people type most (`close`
# gave its place to `report`: it is typed with a reference and a reason anyway).
PERSONAL_COMMANDS: Final = (
    ("refer", "Open a referral card and create a case"),
    ("agenda", "A conference's agenda or pack: agenda [next|today|YYYY-MM-DD] [pack]"),
    ("case", "A case's summary: case REF"),
    ("cases", "Open cases, missed targets first"),
    ("plan", "A case's action plan: plan REF"),
    ("actions", "Open actions: actions [mine|overdue]"),
    ("review", "Re-list a case: review REF REASON"),
    ("report", "Partnership figures: report [YYYY-MM-DD YYYY-MM-DD]"),
    ("meeting", "Conferences: meeting add YYYY-MM-DD | meeting list"),
    ("help", "What you can do"),
)
CHANNEL_COMMANDS: Final = (
    ("agenda", "Counts and references for a conference (detail goes to your 1:1 chat)"),
    ("cases", "How many cases are open (detail goes to your 1:1 chat)"),
    ("actions", "How many actions are open (detail goes to your 1:1 chat)"),
    ("report", "Partnership figures (the card goes to your 1:1 chat)"),
    ("help", "What you can do"),
)


class PackageError(ValueError):
    """A bad package option; the message names it."""


@dataclass(frozen=True)
class PackageOptions:
    app_id: str
    developer_name: str
    website_url: str
    privacy_url: str
    terms_url: str
    version: str = "1.0.0"
    short_name: str = "MARAT"

    def check(self) -> None:
        if not _GUID.match(self.app_id):
            raise PackageError("--app-id must be the bot's Microsoft App ID (a GUID).")
        if not _VERSION.match(self.version):
            raise PackageError("--version must look like 1.0.0.")
        if not self.developer_name.strip() or len(self.developer_name) > 32:
            raise PackageError("--developer-name is required (at most 32 characters).")
        for flag, url in (
            ("--website", self.website_url),
            ("--privacy", self.privacy_url),
            ("--terms", self.terms_url),
        ):
            if not url.startswith("https://") or len(url) > 2048:
                raise PackageError(f"{flag} must be an https:// address.")
        if not 1 <= len(self.short_name) <= 30:
            raise PackageError("--name must be 1 to 30 characters.")


def manifest(options: PackageOptions) -> dict[str, Any]:
    """The app manifest (schema 1.25): a bot for 1:1 chats, teams and group chats."""
    options.check()

    def commands(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
        return [{"title": title, "description": description} for title, description in pairs]

    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": options.version,
        "id": options.app_id,
        "developer": {
            "name": options.developer_name,
            "websiteUrl": options.website_url,
            "privacyUrl": options.privacy_url,
            "termsOfUseUrl": options.terms_url,
        },
        "name": {
            "short": options.short_name,
            "full": "MARAT: multi-agency risk assessment and MARAC conferences",
        },
        "description": {
            "short": "Referrals, agendas, information sharing and action plans for the MARAT.",
            "full": (
                "Runs the Multi-Agency Risk Assessment Team and its MARAC conferences in Teams: "
                "coordinators take referrals and publish agendas; agencies answer information "
                "requests and update their safety-plan actions in cards; reminders keep the "
                "day-3 case discussion and the day-14 conference on time. Case detail is only "
                "ever shown in 1:1 chats, to people who need to know."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": options.app_id,
                "scopes": ["personal", "team", "groupChat"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": commands(PERSONAL_COMMANDS)},
                    {"scopes": ["team", "groupChat"], "commands": commands(CHANNEL_COMMANDS)},
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def _png(width: int, height: int, pixel: Any) -> bytes:
    """A minimal RGBA PNG; ``pixel(x, y)`` gives (r, g, b, a)."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _shield(x: float, y: float) -> bool:
    """A shield shape in a unit square (for safety), used by both icons."""
    if not 0.2 <= x <= 0.8 or not 0.15 <= y <= 0.88:
        return False
    if y <= 0.55:
        return True
    # The lower half narrows to a point at the bottom centre.
    half_width = 0.3 * (0.88 - y) / 0.33
    return abs(x - 0.5) <= half_width


def color_icon() -> bytes:
    """192×192: a white shield on the accent colour (full bleed, as Teams asks)."""
    white, accent = (255, 255, 255, 255), (*ACCENT, 255)
    return _png(192, 192, lambda x, y: white if _shield(x / 191, y / 191) else accent)


def outline_icon() -> bytes:
    """32×32: the shield's outline in white on a transparent background."""

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        inside = _shield(x / 31, y / 31)
        edge = inside and not all(
            _shield((x + dx) / 31, (y + dy) / 31) for dx in (-2, 2) for dy in (-2, 2)
        )
        return (255, 255, 255, 255) if edge else (0, 0, 0, 0)

    return _png(32, 32, pixel)


def build_package(options: PackageOptions) -> bytes:
    """The zip Teams accepts: manifest.json and the two icons at its root."""
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest(options), indent=2))
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    return content.getvalue()

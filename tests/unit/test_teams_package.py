"""`marat teams-package`: what an administrator uploads to Teams."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from bot.ops.cli import main as marat
from bot.ops.teams_package import PackageError, PackageOptions, build_package, manifest
from bot.teams.handler import COMMANDS

APP_ID = "11111111-2222-4333-8444-555555555555"


def options(**changes: str) -> PackageOptions:
    values = {
        "app_id": APP_ID,
        "developer_name": "Example Council",
        "website_url": "https://example.org",
        "privacy_url": "https://example.org/privacy",
        "terms_url": "https://example.org/terms",
    }
    values.update(changes)
    return PackageOptions(**values)


def read_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of a non-interlaced 8-bit RGBA PNG (filter 0 rows)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, width, height = 8, b"", 0, 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 6), "8-bit RGBA"
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + width * 4
    pixels = []
    for y in range(height):
        row = raw[y * stride + 1 : (y + 1) * stride]
        pixels += [tuple(row[i : i + 4]) for i in range(0, len(row), 4)]
    return width, height, pixels  # type: ignore[return-value]


def test_the_bot_is_offered_in_chats_teams_and_group_chats() -> None:
    bot = manifest(options())["bots"][0]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]


def test_every_command_in_the_menus_is_a_real_command_and_fits_teams_limit() -> None:
    for command_list in manifest(options())["bots"][0]["commandLists"]:
        titles = [c["title"] for c in command_list["commands"]]
        assert len(titles) <= 10
        assert set(titles) <= set(COMMANDS), set(titles) - set(COMMANDS)
        assert all(len(c["description"]) <= 128 for c in command_list["commands"])


def test_the_channel_menu_offers_no_command_that_shows_case_detail_there() -> None:
    channel = manifest(options())["bots"][0]["commandLists"][1]
    assert channel["scopes"] == ["team", "groupChat"]
    assert {c["title"] for c in channel["commands"]}.isdisjoint({"refer", "plan", "case"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"app_id": "not-a-guid"}, "--app-id"),
        ({"website_url": "http://example.org"}, "--website"),
        ({"privacy_url": ""}, "--privacy"),
        ({"developer_name": ""}, "--developer-name"),
        ({"version": "1.0"}, "--version"),
    ],
)
def test_bad_options_are_named(change: dict[str, str], message: str) -> None:
    with pytest.raises(PackageError, match=message):
        manifest(options(**change))


def test_the_package_holds_the_manifest_and_both_icons_at_its_root() -> None:
    with zipfile.ZipFile(io.BytesIO(build_package(options()))) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert json.loads(package.read("manifest.json"))["id"] == APP_ID
        width, height, colour = read_png(package.read("color.png"))
        assert (width, height) == (192, 192)
        assert all(alpha == 255 for *_rgb, alpha in colour)  # full bleed
        width, height, outline = read_png(package.read("outline.png"))
        assert (width, height) == (32, 32)
        # Teams' rule for outline icons: white on a transparent background, nothing else.
        assert set(outline) == {(255, 255, 255, 255), (0, 0, 0, 0)}


def test_the_cli_writes_the_package_and_reports_a_bad_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    out = tmp_path / "marat.zip"
    common = [
        "--developer-name",
        "Example Council",
        "--website",
        "https://example.org",
        "--privacy",
        "https://example.org/p",
        "--terms",
        "https://example.org/t",
    ]
    assert marat(["teams-package", *common, "--out", str(out)]) == 0
    assert zipfile.is_zipfile(out)
    assert marat(["teams-package", *common, "--app-id", "nope", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "--app-id must be the bot's Microsoft App ID" in error and "Traceback" not in error

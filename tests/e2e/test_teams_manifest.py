"""The Teams app manifest validates against the official schema (Microsoft's validator)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.ops.teams_package import PackageOptions, manifest

HERE = Path(__file__).parent
VALIDATOR = HERE / "node_modules" / "@microsoft" / "app-manifest"


def validate(document: dict[str, object], tmp_path: Path) -> list[str]:
    node = shutil.which("node")
    if node is None or not VALIDATOR.is_dir():
        pytest.fail("Node.js and the validator are needed: run npm ci --prefix tests/e2e")
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = subprocess.run(
        [node, str(HERE / "validate_manifest.js"), str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE,
        timeout=60,
    )
    problems: list[str] = json.loads(result.stdout)
    return problems


@pytest.mark.e2e
def test_the_manifest_is_valid_against_the_teams_schema(tmp_path: Path) -> None:
    options = PackageOptions(
        "11111111-2222-4333-8444-555555555555",
        "Example Council",
        "https://example.org",
        "https://example.org/privacy",
        "https://example.org/terms",
    )
    assert validate(manifest(options), tmp_path) == []


@pytest.mark.e2e
def test_the_validator_would_catch_a_mistake(tmp_path: Path) -> None:
    options = PackageOptions(
        "11111111-2222-4333-8444-555555555555",
        "Example Council",
        "https://example.org",
        "https://example.org/privacy",
        "https://example.org/terms",
    )
    broken = {**manifest(options), "unknownTopLevelKey": True}
    assert validate(broken, tmp_path) != []

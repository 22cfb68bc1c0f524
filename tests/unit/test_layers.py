"""The import rule of STYLE.md: the pure core and the card builders touch no framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("botbuilder", "botframework", "aiohttp", "sqlalchemy", "apscheduler", "alembic")
PURE = {
    "bot/domain": FRAMEWORKS,
    "cards": FRAMEWORKS,
    # Dialogs return values; only the Teams edge (bot/handler.py, bot/gateway.py) sends.
    "dialogs": FRAMEWORKS,
    "bot/services.py": FRAMEWORKS,
    "bot/ports.py": FRAMEWORKS,
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(target: str) -> list[Path]:
    path = ROOT / target
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


@pytest.mark.parametrize("target", sorted(PURE))
def test_pure_layers_import_no_framework(target: str) -> None:
    files = python_files(target)
    assert files, f"nothing found at {target}"
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module in imported_modules(path)
        if module.split(".")[0] in PURE[target]
    ]
    assert offenders == []


def test_the_domain_imports_only_the_standard_library_and_holidays() -> None:
    allowed = {"holidays", "bot"}
    for path in python_files("bot/domain"):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in allowed:
                assert not module.startswith("bot.") or module.startswith("bot.domain"), module
                continue
            assert top in __import__("sys").stdlib_module_names, f"{path.name}: {module}"


def test_the_layer_check_would_catch_a_framework_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from sqlalchemy import select\nimport aiohttp.web\n")
    assert {"sqlalchemy", "aiohttp.web"} <= imported_modules(sample)

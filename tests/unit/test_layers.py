"""The import rule of STYLE.md, as tests: each layer imports only what it may, and each
framework is touched in exactly one place.

Every rule is checked twice: against the project, and against a one-file tree that breaks it,
to prove the rule would catch a violation (a rule that cannot fail would prove nothing).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("bot", "cards", "dialogs", "scheduler", "storage")
BOT_FRAMEWORK = ("botbuilder", "botframework", "msrest")
FRAMEWORKS = (*BOT_FRAMEWORK, "aiohttp", "sqlalchemy", "apscheduler", "alembic")


def _top(module: str) -> str:
    return module.split(".")[0]


def _is_stdlib(module: str) -> bool:
    return _top(module) in sys.stdlib_module_names


def _within(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def imported_modules(path: Path, root: Path) -> set[str]:
    """Every module a file imports, wherever the import stands (TYPE_CHECKING included);
    relative imports are resolved against the file's package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                names.add(".".join([*base, *([node.module] if node.module else [])]))
            elif node.module:
                names.add(node.module)
    return names


@dataclass(frozen=True)
class Rule:
    """Files under ``scope`` (and not under ``exempt``) may import a module only if
    ``allowed`` says so. ``breach`` is a file and a line that breaks the rule."""

    name: str
    scope: tuple[str, ...]
    allowed: Callable[[str], bool]
    breach: tuple[str, str]
    exempt: tuple[str, ...] = ()

    def covers(self, relative: str) -> bool:
        inside = any(relative == s or relative.startswith(s.rstrip("/") + "/") for s in self.scope)
        return inside and not any(relative.startswith(e) for e in self.exempt)

    def offenders(self, root: Path) -> list[str]:
        found = []
        for package in APP_PACKAGES:
            for path in sorted((root / package).rglob("*.py")):
                relative = path.relative_to(root).as_posix()
                if "/migrations/versions/" in relative or not self.covers(relative):
                    continue
                for module in sorted(imported_modules(path, root)):
                    if not self.allowed(module):
                        found.append(f"{relative} imports {module}")
        return found


RULES = (
    Rule(
        "the domain imports only the standard library, holidays and itself",
        ("bot/domain",),
        lambda m: _is_stdlib(m) or _top(m) == "holidays" or _within(m, "bot.domain"),
        ("bot/domain/sample.py", "from bot.ports import AuditEvent"),
    ),
    Rule(
        "the ports import only the standard library and the domain",
        ("bot/ports.py",),
        lambda m: _is_stdlib(m) or _within(m, "bot.domain"),
        ("bot/ports.py", "from storage.models import CaseRow"),
    ),
    Rule(
        "cards import only the domain (and each other)",
        ("cards",),
        lambda m: _is_stdlib(m) or _within(m, "bot.domain", "cards"),
        ("cards/sample.py", "from bot.services.outbox import notice"),
    ),
    Rule(
        "use cases import the domain and the ports, never storage, cards, dialogs or the edge",
        ("bot/services",),
        lambda m: _is_stdlib(m) or _within(m, "bot.domain", "bot.ports", "bot.services"),
        ("bot/services/sample.py", "from storage.db import create_engine"),
    ),
    Rule(
        "dialogs never import storage or a framework",
        ("dialogs",),
        lambda m: not _within(m, "storage", *FRAMEWORKS),
        ("dialogs/sample.py", "from storage.models import CaseRow"),
    ),
    Rule(
        "only bot/teams imports the Bot Framework SDK",
        APP_PACKAGES,
        lambda m: not _within(m, *BOT_FRAMEWORK),
        ("bot/services/sample.py", "from botbuilder.core import TurnContext"),
        exempt=("bot/teams/",),
    ),
    Rule(
        "only scheduler imports APScheduler",
        APP_PACKAGES,
        lambda m: not _within(m, "apscheduler"),
        ("bot/teams/sample.py", "from apscheduler.schedulers.asyncio import AsyncIOScheduler"),
        exempt=("scheduler/",),
    ),
    Rule(
        "only bot/teams imports the Prometheus client (the metrics of the edge)",
        APP_PACKAGES,
        lambda m: not _within(m, "prometheus_client"),
        ("bot/services/sample.py", "from prometheus_client import Counter"),
        exempt=("bot/teams/",),
    ),
    Rule(
        "only bot/ops/charts.py imports matplotlib (headless, for `marat report --chart`)",
        APP_PACKAGES,
        lambda m: not _within(m, "matplotlib"),
        ("bot/ops/sample.py", "import matplotlib.pyplot"),
        exempt=("bot/ops/charts.py",),
    ),
    Rule(
        "only storage imports SQLAlchemy and Alembic",
        APP_PACKAGES,
        lambda m: not _within(m, "sqlalchemy", "alembic"),
        ("bot/teams/sample.py", "from sqlalchemy import text"),
        exempt=("storage/",),
    ),
)
NAMES = [rule.name for rule in RULES]


@pytest.mark.parametrize("rule", RULES, ids=NAMES)
def test_the_project_keeps_the_rule(rule: Rule) -> None:
    assert rule.offenders(ROOT) == []


@pytest.mark.parametrize("rule", RULES, ids=NAMES)
def test_the_rule_would_catch_a_violation(rule: Rule, tmp_path: Path) -> None:
    relative, line = rule.breach
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"from __future__ import annotations\n\n{line}\n", encoding="utf-8")

    offenders = rule.offenders(tmp_path)

    assert offenders and offenders[0].startswith(relative), offenders


def test_an_import_hidden_under_type_checking_is_still_seen(tmp_path: Path) -> None:
    sample = tmp_path / "cards" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from storage.db import X\n"
    )
    assert "storage.db" in imported_modules(sample, tmp_path)


def test_a_relative_import_is_resolved_against_its_package(tmp_path: Path) -> None:
    sample = tmp_path / "bot" / "services" / "sample.py"
    sample.parent.mkdir(parents=True)
    sample.write_text("from ..teams import gateway\nfrom . import outbox\n")
    assert imported_modules(sample, tmp_path) == {"bot.teams", "bot.services"}

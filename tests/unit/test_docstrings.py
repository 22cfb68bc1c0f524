"""The use cases, ports, cards and dialogs read as their own manual: every public module,
class, function and method there says in a docstring what it does and why."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = ("bot/services", "bot/ports.py", "cards", "dialogs")


def files() -> list[Path]:
    found: list[Path] = []
    for target in DOCUMENTED:
        path = ROOT / target
        found.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return found


def undocumented(path: Path) -> list[str]:
    """Public definitions without a docstring (dunder methods and protocol stubs of
    ``__aenter__``/``__aexit__``/``__call__`` excepted)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    missing = [] if ast.get_docstring(tree) else ["the module"]

    def visit(nodes: list[ast.stmt], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                if node.name.startswith("_"):
                    continue
                if ast.get_docstring(node) is None:
                    missing.append(prefix + node.name)
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    return missing


@pytest.mark.parametrize("path", files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_public_definition_has_a_docstring(path: Path) -> None:
    assert undocumented(path) == []


def test_the_check_would_catch_a_missing_docstring(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""A module."""\n\n'
        "def shown() -> None:\n    pass\n\n"
        'class C:\n    """C."""\n\n    def m(self) -> None:\n        pass\n'
    )
    assert undocumented(sample) == ["shown", "C.m"]

"""The README's one command makes the SafeLives return and the chart in docs/ from the demo
data: running it again gives the committed return, byte for byte, and a chart of the same
size (the PNG's pixels depend on the fonts of the machine)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bot.ops.cli import main as cli_main

DOCS = Path(__file__).resolve().parents[2] / "docs"
# As in the README ("Partnership figures"), with the output moved to a temporary folder.
COMMAND = "report --demo --from 2027-01-01 --to 2027-03-31 --format csv --out {csv} --chart {png}"


def size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def test_the_documented_command_makes_the_committed_return_and_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    documented = COMMAND.format(
        csv="docs/examples/safelives-return.csv", png="docs/report-chart.png"
    )
    assert f".venv/bin/marat {documented}" in readme
    # --demo must not touch the configured database.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never-created.sqlite3'}")
    csv, png = tmp_path / "return.csv", tmp_path / "chart.png"
    assert cli_main(COMMAND.format(csv=csv, png=png).split()) == 0
    assert csv.read_text(encoding="utf-8") == (
        DOCS / "examples" / "safelives-return.csv"
    ).read_text(encoding="utf-8")
    assert size(png.read_bytes()) == size((DOCS / "report-chart.png").read_bytes())
    assert not (tmp_path / "never-created.sqlite3").exists()
    assert "Wrote the csv report to" in capsys.readouterr().out

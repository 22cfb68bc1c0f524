"""`marat demo`: the bot with the demo data and the Agents Playground, started together by one
command, one address printed, both stopped cleanly on Ctrl-C.

Runs the real command as a subprocess (needs the Playground: ``npm ci --prefix tests/e2e``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.ops.launcher import PROJECT_ROOT, free_port

pytestmark = pytest.mark.e2e

LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str) -> tuple[int, str]:
    with LOCAL.open(url, timeout=5) as response:
        return response.status, response.read().decode()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _demo(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARAT_", "Microsoft"))}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "bot.ops.cli", "demo", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_one_command_starts_both_prints_the_address_and_ctrl_c_stops_both(
    tmp_path: Path,
) -> None:
    bot_port, playground_port = free_port(), free_port()
    demo = _demo(tmp_path, "--port", str(bot_port), "--playground-port", str(playground_port))
    try:
        assert demo.stdout is not None
        seen = []
        for line in demo.stdout:  # blocks until the next line; bounded by the launcher's timeout
            seen.append(line)
            if line.startswith("Ready."):
                break
        else:
            pytest.fail("the demo ended before it was ready:\n" + "".join(seen))
        address = f"http://127.0.0.1:{playground_port}"
        assert f"Open {address} in your browser" in seen[-1]

        assert _get(f"{address}/_debug/ping") == (200, "pong")
        status, body = _get(f"http://127.0.0.1:{bot_port}/readyz")
        assert status == 200 and '"ready"' in body
        assert (tmp_path / "marat.sqlite3").exists(), "the demo uses a SQLite file here"

        demo.send_signal(signal.SIGINT)  # Ctrl-C
        assert demo.wait(30) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
    assert not _listening(bot_port) and not _listening(playground_port), "both stopped"


def test_a_port_in_use_is_one_clear_line_and_nothing_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        demo = _demo(tmp_path, "--port", str(port), "--playground-port", str(free_port()))
        out, _ = demo.communicate(timeout=60)
    assert demo.returncode == 2
    assert out.strip().splitlines()[-1] == (
        f"marat: Port {port} (for the bot) is in use; choose another with --port."
    )
    assert not (tmp_path / ".marat-demo").exists()

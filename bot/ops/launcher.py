"""Starting the bot and the Microsoft 365 Agents Playground side by side, on loopback.

Used by `marat demo` (a newcomer's first command) and by the end-to-end tests, so both start
the pair the same way: each process in its own process group with its output in a log file,
readiness polled on its health URL, and both always stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The pinned Playground lives beside the end-to-end tests (its HTTP API is private: pin it).
PLAYGROUND_DIR = PROJECT_ROOT / "tests" / "e2e"
PLAYGROUND_PACKAGE = "@microsoft/m365agentsplayground"
PLAYGROUND_VERSION = "0.2.28"
INSTALL_HINT = "run `npm ci --prefix tests/e2e` from the project root (needs Node.js 20+ and npm)"


class LaunchError(Exception):
    """The pair cannot be started; the message says what to do."""


class ProcessExited(LaunchError):
    """A process ended before it was ready (for example: its port was taken meanwhile)."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (bind to port 0 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a server could listen on the port now (as servers do, with SO_REUSEADDR, so a
    port in TIME_WAIT after a clean stop counts as free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file ("" if it does not exist)."""
    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(content.splitlines()[-lines:])


class ManagedProcess:
    """A subprocess in its own process group, its output captured to a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        cwd: Path,
        env: Mapping[str, str],
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own argv, no shell
            self.argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends its children too
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def exited(self) -> int | None:
        """The exit code, or None while it runs."""
        return self.process.poll()

    def tail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group, then SIGKILL it if it is still there after ``grace``."""
        try:
            if self.process.poll() is None:
                self._signal(signal.SIGTERM)
                try:
                    self.process.wait(grace)
                except subprocess.TimeoutExpired:
                    self._signal(signal.SIGKILL)
                    self.process.wait(grace)
            # Children left behind in the group (the process itself has exited).
            self._signal(signal.SIGKILL)
        finally:
            self._log.close()

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)


_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def _http_ready(url: str, expect: Callable[[int, str], bool]) -> bool:
    try:
        with _LOCAL.open(url, timeout=1) as response:
            return expect(response.status, response.read().decode("utf-8", "replace"))
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_ready(
    processes: Mapping[ManagedProcess, str],
    expect: Mapping[ManagedProcess, Callable[[int, str], bool]],
    timeout: float = 30.0,
    poll: float = 0.05,
) -> None:
    """Poll each process's readiness URL until all answer as expected (bounded by ``timeout``).

    Raises :class:`LaunchError` with the log tail if a process exits or the time runs out.
    """
    pending = dict(processes)
    deadline = time.monotonic() + timeout
    while pending:
        for proc, url in list(pending.items()):
            code = proc.exited()
            if code is not None:
                raise ProcessExited(
                    f"{proc.name} exited with code {code} before it was ready "
                    f"({' '.join(proc.argv)}). Log tail:\n{proc.tail()}"
                )
            if _http_ready(url, expect[proc]):
                del pending[proc]
        if not pending:
            return
        if time.monotonic() > deadline:
            names = ", ".join(f"{p.name} ({u})" for p, u in pending.items())
            logs = "\n".join(f"--- {p.name} ---\n{p.tail()}" for p in pending)
            raise LaunchError(f"not ready after {timeout:.0f} s: {names}\n{logs}")
        time.sleep(poll)


def playground_executable(install: bool = False) -> Path:
    """The pinned Playground CLI; with ``install``, ``npm ci`` it on first use."""
    if shutil.which("node") is None:
        raise LaunchError(
            f"Node.js (`node`) is not on PATH: install Node.js 20+, then {INSTALL_HINT}."
        )
    executable = PLAYGROUND_DIR / "node_modules" / ".bin" / "agentsplayground"
    manifest = PLAYGROUND_DIR / "node_modules" / PLAYGROUND_PACKAGE / "package.json"
    if install and not executable.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise LaunchError(f"npm is not on PATH: {INSTALL_HINT}.")
        print(f"Installing the Agents Playground {PLAYGROUND_VERSION} (once)…", flush=True)
        subprocess.run(  # noqa: S603 - fixed argv
            [npm, "ci", "--prefix", str(PLAYGROUND_DIR), "--no-audit", "--no-fund"],
            check=True,
        )
    if not executable.exists() or not manifest.exists():
        raise LaunchError(f"The Agents Playground is not installed: {INSTALL_HINT}.")
    version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    if version != PLAYGROUND_VERSION:
        raise LaunchError(
            f"{PLAYGROUND_PACKAGE} {version} is installed but {PLAYGROUND_VERSION} is needed "
            f"(its API is private): {INSTALL_HINT}."
        )
    return executable


def clean_env() -> dict[str, str]:
    """The inherited environment without settings that would change the bot or its auth."""
    prefixes = ("MARAT_", "MICROSOFTAPP", "MICROSOFT_APP")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(prefixes) and key.upper() != "DATABASE_URL"
    }
    # Bot <-> Playground traffic is loopback only: keep it away from any configured proxy.
    for key in ("NO_PROXY", "no_proxy"):
        env[key] = ",".join(filter(None, ["127.0.0.1", "localhost", env.get(key)]))
    return env


@dataclass
class BotProcess:
    """`marat serve --demo` running as a child process."""

    process: ManagedProcess
    url: str

    @property
    def messages_url(self) -> str:
        return f"{self.url}/api/messages"


def start_bot(
    workdir: Path, port: int, database_url: str, env: Mapping[str, str] | None = None
) -> BotProcess:
    """``marat serve --demo`` on ``port`` (no app id: anonymous, loopback only)."""
    child_env = dict(env) if env is not None else clean_env()
    child_env["DATABASE_URL"] = database_url
    child_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), child_env.get("PYTHONPATH")])
    )
    child_env["PYTHONUNBUFFERED"] = "1"
    argv = [sys.executable, "-m", "bot.ops.cli", "serve", "--demo", "--host", "127.0.0.1"]
    argv += ["--port", str(port)]
    proc = ManagedProcess("bot", argv, workdir / "bot.log", workdir, child_env)
    return BotProcess(proc, f"http://127.0.0.1:{port}")


@dataclass
class PlaygroundProcess:
    """The Agents Playground running as a child process."""

    process: ManagedProcess
    url: str


def start_playground(
    workdir: Path, bot_messages_url: str, port: int, install: bool = False
) -> PlaygroundProcess:
    """The Agents Playground on ``port``, pointed at the bot; no browser, no telemetry.

    The Playground tries to open a browser with ``xdg-open`` after it starts listening and
    crashes when there is none, so a no-op ``xdg-open`` goes first on its PATH.
    """
    executable = playground_executable(install)
    stub_dir = workdir / "bin"
    stub_dir.mkdir(exist_ok=True)
    stub = stub_dir / "xdg-open"
    stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    stub.chmod(0o755)
    url = f"http://127.0.0.1:{port}"
    env = clean_env()
    env["PATH"] = os.pathsep.join([str(stub_dir), env.get("PATH", "")])
    env["BROWSER"] = str(stub)
    argv = [str(executable), "-e", bot_messages_url, "-c", "msteams", "--dt"]
    argv += ["-p", str(port), "--su", f"{url}/_connector"]
    run_dir = workdir / "playground"
    run_dir.mkdir(exist_ok=True)  # it writes devTools/ logs into its working directory
    proc = ManagedProcess("playground", argv, workdir / "playground.log", run_dir, env)
    return PlaygroundProcess(proc, url)


@dataclass
class Stack:
    """The running bot and Playground."""

    bot: BotProcess
    playground: PlaygroundProcess
    workdir: Path

    @property
    def processes(self) -> list[ManagedProcess]:
        return [self.bot.process, self.playground.process]

    @property
    def playground_devtools_log(self) -> Path:
        """The Playground's own detailed log (it writes devTools/ into its working directory)."""
        return self.workdir / "playground" / "devTools" / "m365agentsplayground.log"

    def logs(self, lines: int = 40) -> str:
        """The tail of each process's output and of the Playground's log, for failure reports."""
        parts = [f"--- {p.name} ({p.log_path}) ---\n{p.tail(lines)}" for p in self.processes]
        devtools = tail(self.playground_devtools_log, lines)
        clipped = "\n".join(line[:300] for line in devtools.splitlines())
        parts.append(f"--- playground devTools ({self.playground_devtools_log}) ---\n{clipped}")
        return "\n".join(parts)

    def running(self) -> bool:
        return all(p.exited() is None for p in self.processes)

    def stop(self) -> None:
        """Bot first: its graceful shutdown may still be finishing a turn that calls the
        Playground's connector, so the Playground must outlive it."""
        for proc in self.processes:
            proc.stop()


def start_stack(
    workdir: Path,
    database_url: str | None = None,
    bot_port: int | None = None,
    playground_port: int | None = None,
    timeout: float = 30.0,
    install: bool = False,
    bot_env: Mapping[str, str] | None = None,
) -> Stack:
    """Start the bot and the Playground and wait until both answer (or stop both).

    ``bot_env`` None gives the bot a clean environment (the tests); the demo passes its own.
    """
    playground_executable(install)  # fail before starting anything if it is missing
    workdir.mkdir(parents=True, exist_ok=True)
    bot = start_bot(
        workdir,
        bot_port or free_port(),
        database_url or f"sqlite:///{workdir / 'marat.sqlite3'}",
        bot_env,
    )
    try:
        playground = start_playground(
            workdir, bot.messages_url, playground_port or free_port(), install
        )
    except BaseException:
        bot.process.stop()
        raise
    stack = Stack(bot, playground, workdir)
    try:
        wait_ready(
            {bot.process: f"{bot.url}/readyz", playground.process: f"{playground.url}/_debug/ping"},
            {
                bot.process: lambda status, _body: status == 200,
                playground.process: lambda status, body: status == 200 and "pong" in body,
            },
            timeout=timeout,
        )
    except BaseException:
        stack.stop()
        raise
    return stack

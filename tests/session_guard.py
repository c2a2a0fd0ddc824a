"""Keep a finished test run from hanging CI: stray processes and a stuck interpreter exit.

Every process the tests start inherits ``REFEREE_TEST_SESSION`` (set at import, before any
test runs). When the session finishes, :func:`kill_strays` finds the ones still alive through
``/proc`` -- a worker, redis-server or fake server that a test failed to stop would otherwise
keep CI's output pipe open -- reports and kills them. :func:`arm_exit_watchdog` then gives the
interpreter's own exit (atexit handlers, thread joins in libraries) a bounded time: past it,
every thread's stack is printed and the process exits with the session's status.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import uuid
from pathlib import Path

MARKER = "REFEREE_TEST_SESSION"
EXIT_GRACE_S = 60.0


def mark_session() -> str:
    """Set (or keep) this run's marker in the environment that child processes inherit.

    A pytest-xdist worker takes a marker of its own: it inherited its controller's, which every
    other worker carries too, and a worker finishing first must not kill the ones still running.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ[MARKER] = uuid.uuid4().hex
        return os.environ[MARKER]
    return os.environ.setdefault(MARKER, uuid.uuid4().hex)


def _environ_has(pid: int, needle: bytes) -> bool:
    try:
        return needle in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:  # gone, or not ours to read
        return False


def _command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)[:200]


def stray_processes(marker: str) -> list[int]:
    """PIDs, other than this process, whose environment carries ``MARKER=marker`` (Linux)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    needle = f"{MARKER}={marker}".encode()
    me = os.getpid()
    return [
        int(entry.name)
        for entry in proc.iterdir()
        if entry.name.isdigit() and int(entry.name) != me and _environ_has(int(entry.name), needle)
    ]


def kill_strays(marker: str) -> list[str]:
    """SIGKILL the run's leftover processes; return their command lines (for the report)."""
    killed = []
    for pid in stray_processes(marker):
        line = _command_line(pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            continue
        killed.append(f"{pid}: {line}")
    return killed


def arm_exit_watchdog(status: int, grace_s: float = EXIT_GRACE_S) -> None:
    """If the interpreter has not exited ``grace_s`` seconds from now, dump stacks and exit."""

    def expire() -> None:
        sys.stderr.write(
            f"\ntest process still alive {grace_s:g}s after the session ended; thread stacks:\n"
        )
        faulthandler.dump_traceback(all_threads=True)
        sys.stderr.flush()
        os._exit(status)

    timer = threading.Timer(grace_s, expire)
    timer.daemon = True
    timer.start()

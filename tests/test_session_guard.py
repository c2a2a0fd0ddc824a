"""The run's guard finds and kills processes a test left behind, and only those."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from tests.session_guard import MARKER, kill_strays, stray_processes

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc (Linux)")


def test_a_marked_leftover_is_found_and_killed_and_an_unmarked_one_is_not() -> None:
    marker = uuid.uuid4().hex
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    marked = subprocess.Popen(sleeper, env={**os.environ, MARKER: marker})
    unmarked = subprocess.Popen(sleeper, env={**os.environ, MARKER: "someone-else"})
    try:
        deadline = time.monotonic() + 10
        while marked.pid not in stray_processes(marker) and time.monotonic() < deadline:
            time.sleep(0.05)  # /proc/PID/environ is readable once exec has happened
        assert stray_processes(marker) == [marked.pid]
        killed = kill_strays(marker)
        assert len(killed) == 1 and killed[0].startswith(f"{marked.pid}: ")
        assert marked.wait(10) == -9
        assert unmarked.poll() is None
    finally:
        for proc in (marked, unmarked):
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def test_the_watchdog_ends_a_stuck_exit_with_the_sessions_status() -> None:
    code = (
        "import threading, sys; sys.path.insert(0, sys.argv[1]);"
        "from tests.session_guard import arm_exit_watchdog;"
        "arm_exit_watchdog(3, grace_s=0.5);"
        "threading.Thread(target=threading.Event().wait).start()"  # non-daemon: exit would hang
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        [sys.executable, "-c", code, root], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 3
    assert "still alive" in done.stderr and "Thread" in done.stderr


@pytest.mark.parametrize("worker", ["gw0", ""])
def test_an_xdist_worker_does_not_share_its_controllers_marker(worker: str) -> None:
    """Each xdist worker kills only its own leftovers, never a sibling worker still running."""
    code = "import sys; sys.path.insert(0, sys.argv[1]); from tests.session_guard import mark_session; print(mark_session())"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, MARKER: "controller", "PYTEST_XDIST_WORKER": worker}
    done = subprocess.run(
        [sys.executable, "-c", code, root], capture_output=True, text=True, env=env, timeout=30
    )
    marker = done.stdout.strip()
    assert (marker == "controller") is (worker == "")
    assert marker

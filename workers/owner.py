"""Who runs an in-process job, and whether that process is still alive.

A job run without a broker lives only as long as the ``referee prelabel`` process that judges it.
That process writes itself into the job's parameters (``params["owner"]``: host name, pid and the
process's start time); if it is killed, the job stays ``running`` with nobody working on it.
:func:`owner_alive` tells such an orphan from a live job, so ``--resume`` can take it over:

- on the owner's own host, the owner is alive when its pid exists and started when it said
  (a reused pid is someone else);
- on another host, it is alive while the job shows activity (chunks refresh their items every
  few seconds) within ``stale_after_s``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its last ')'
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def this_process() -> dict[str, Any]:
    """The identity this process records as a job's owner."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "started": _start_time(pid)}


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to someone else
        return True
    except OSError:
        return False
    return True


def owner_alive(
    owner: Mapping[str, Any], *, last_activity: datetime, now: datetime, stale_after_s: float
) -> bool:
    """True when the process recorded as ``owner`` may still be working on its job."""
    host, pid, started = owner.get("host"), owner.get("pid"), owner.get("started")
    if host == socket.gethostname() and isinstance(pid, int):
        if not _pid_exists(pid):
            return False
        return started is None or _start_time(pid) in (None, started)
    return (now - last_activity).total_seconds() < stale_after_s


def describe(owner: Mapping[str, Any]) -> str:
    """``process PID on HOST``."""
    return f"process {owner.get('pid')} on {owner.get('host')}"


__all__ = ["describe", "owner_alive", "this_process"]

"""Ctrl-C and SIGTERM while a job is judged in this process: wind down once, quit at twice.

:class:`InterruptGuard` replaces the SIGINT and SIGTERM handlers for the length of a ``with``
block. The first signal sets :attr:`InterruptGuard.signum` and calls ``on_first`` (closing the
judge calls' gate: no call starts after it); the caller polls the flag and winds the job down
(:func:`workers.jobs.interrupt_prelabel`). A second signal ends the process at once with the
conventional status ``128 + signal number``, whatever it is doing. Nothing is printed through
Python's buffered streams inside a handler (it may run in the middle of a write).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def exit_status(signum: int) -> int:
    """The shell's exit status for a process ended by ``signum`` (130 for Ctrl-C)."""
    return 128 + signum


class InterruptGuard:
    """Catch SIGINT/SIGTERM inside a ``with`` block (main thread only; a no-op elsewhere)."""

    def __init__(
        self,
        first_message: str = "",
        second_message: str = "",
        on_first: Callable[[], None] | None = None,
    ) -> None:
        self.first_message = first_message
        self.second_message = second_message
        #: called inside the handler at the first signal: it must take no lock (a flag is fine)
        self.on_first = on_first
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        """True once the first signal arrived."""
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        """The exit status to end with after the first signal (130 for Ctrl-C)."""
        return exit_status(self.signum or signal.SIGINT)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        del frame
        if self.signum is None:
            self.signum = signum
            if self.on_first is not None:
                self.on_first()
            if self.first_message:
                os.write(2, f"\n{self.first_message}\n".encode())
            return
        if self.second_message:
            os.write(2, f"\n{self.second_message}\n".encode())
        os._exit(exit_status(signum))

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()


__all__ = ["SIGNALS", "InterruptGuard", "exit_status"]

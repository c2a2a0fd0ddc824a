"""Stopping a process's judge calls on an interrupt: no new call starts, calls in flight may finish.

Every provider call takes a slot from its model's limiter (:mod:`judge.limits`) before it goes
out, retries and re-asks included. A :class:`CallGate` shared by a process's limiters closes that
door: once :meth:`CallGate.close` is called, a call that asks for a slot (or was queued for one)
raises :class:`CallsStopped` instead of being sent, so nothing new is paid for. Calls already
sent go on; :meth:`CallGate.abort` then tells the chunks to cancel whatever is still in flight
(:mod:`workers.chunk` watches it).

:class:`CallsStopped` is a :class:`judge.errors.JudgeError`, so the judge pipeline attaches the
orders that did complete (``partial``) and the chunk stores them: a resumed job never pays for
them again.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from judge.errors import JudgeError
from judge.limits import LimitsRegistry, ModelLimiter, ModelLimits, TokenGrant


class CallsStopped(JudgeError):
    """The process is winding down: this call was not sent (the pair stays pending)."""


class CallGate:
    """Open until :meth:`close`; :meth:`abort` additionally asks for calls in flight to stop."""

    # Plain flags, not threading.Event: closing takes no lock, so a signal handler may do it.

    def __init__(self) -> None:
        self._closed = False
        self._aborted = False

    @property
    def closed(self) -> bool:
        """True once no new call may start."""
        return self._closed

    @property
    def aborted(self) -> bool:
        """True once calls in flight should be cancelled."""
        return self._aborted

    def close(self) -> None:
        """Let no new call start (safe to call from a signal handler)."""
        self._closed = True

    def abort(self) -> None:
        """Close, and ask every chunk to cancel its calls in flight."""
        self._closed = True
        self._aborted = True

    def check(self) -> None:
        """Raise :class:`CallsStopped` when closed."""
        if self._closed:
            raise CallsStopped("interrupted: the call was not sent")


class GatedLimiter(ModelLimiter):
    """A :class:`ModelLimiter` whose slots are refused once its gate is closed."""

    def __init__(self, limits: ModelLimits, gate: CallGate) -> None:
        super().__init__(limits)
        self.gate = gate

    @asynccontextmanager
    async def slot(self, estimated_tokens: int) -> AsyncIterator[TokenGrant]:
        """Hold one call slot, unless the gate closed before (or while waiting for) it."""
        self.gate.check()
        async with super().slot(estimated_tokens) as grant:
            self.gate.check()  # it may have closed while this call queued for the slot
            yield grant


class GatedRegistry(LimitsRegistry):
    """A :class:`LimitsRegistry` handing out :class:`GatedLimiter` s that share one gate."""

    def __init__(self, default: ModelLimits, gate: CallGate) -> None:
        super().__init__(default)
        self.gate = gate
        self._gated: dict[tuple[str, str | None], GatedLimiter] = {}
        self._gated_lock = threading.Lock()

    def limiter(self, model: str, api_base: str | None = None) -> ModelLimiter:
        """The shared gated limiter of ``model`` at ``api_base`` (created on first use)."""
        key = (model, api_base)
        with self._gated_lock:
            found = self._gated.get(key)
            if found is None:
                found = GatedLimiter(self.per_model.get(model, self.default), self.gate)
                self._gated[key] = found
            return found


__all__ = ["CallGate", "CallsStopped", "GatedLimiter", "GatedRegistry"]

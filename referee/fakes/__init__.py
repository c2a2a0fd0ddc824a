"""In-process fakes of external services, for tests, demos and benchmarks.

``referee.fakes.openai_server.FakeOpenAIServer`` is re-exported lazily, so that
``python -m referee.fakes.openai_server`` does not import the module twice.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FakeOpenAIServer"]


def __getattr__(name: str) -> Any:
    if name == "FakeOpenAIServer":
        from referee.fakes.openai_server import FakeOpenAIServer

        return FakeOpenAIServer
    raise AttributeError(f"module 'referee.fakes' has no attribute {name!r}")

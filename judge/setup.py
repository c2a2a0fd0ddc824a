"""How litellm is set up in a process that judges, chosen at an entry point and applied once.

litellm is configured through environment variables (some read when it is imported, some on
every call) and module globals. Library code here sets neither: the entry points that build live
judges (``referee prelabel`` in-process, ``referee worker``) build a :class:`LiteLLMSetup` and
call :func:`configure_litellm` before any judge exists. Variables the user already set win, so
``EXPERIMENTAL_OPENAI_BASE_LLM_HTTP_HANDLER=false`` still brings the openai SDK path back.

Nothing here imports litellm until :func:`configure_litellm` runs.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass

log = logging.getLogger("referee.judge")


@dataclass(frozen=True)
class LiteLLMSetup:
    """litellm's process-wide options.

    ``local_cost_map``: read the price map bundled with litellm, never fetch it over the network
    (``LITELLM_LOCAL_MODEL_COST_MAP``, read when litellm is imported).
    ``http_handler``: OpenAI-compatible calls made through ``litellm.acompletion`` (judges with
    ``transport=litellm``) use litellm's own HTTP handler instead of the openai SDK, which
    re-walks every request through its TypedDict transforms and parses each answer twice, about
    3.5 ms of CPU per call (``EXPERIMENTAL_OPENAI_BASE_LLM_HTTP_HANDLER``, read on every call).
    ``quiet``: no "Give Feedback" banner on every provider error, no telemetry.
    """

    local_cost_map: bool = True
    http_handler: bool = True
    quiet: bool = True

    def environment(self) -> dict[str, str]:
        """The environment variables litellm reads for these options."""
        return {
            "LITELLM_LOCAL_MODEL_COST_MAP": str(self.local_cost_map),
            "EXPERIMENTAL_OPENAI_BASE_LLM_HTTP_HANDLER": str(self.http_handler).lower(),
        }


def configure_litellm(setup: LiteLLMSetup | None = None) -> None:
    """Apply ``setup`` to this process: litellm's variables (values already set are kept), then,
    having imported litellm, its module globals. Call at an entry point, before judges are built;
    calling it again is harmless."""
    setup = setup or LiteLLMSetup()
    environ = os.environ
    if "litellm" in sys.modules and "LITELLM_LOCAL_MODEL_COST_MAP" not in environ:
        log.warning(
            "litellm was imported before it was configured: its price map may have been "
            "fetched over the network"
        )
    for name, value in setup.environment().items():
        environ.setdefault(name, value)
    import litellm

    if setup.quiet:
        litellm.suppress_debug_info = True
        litellm.telemetry = False


__all__ = ["LiteLLMSetup", "configure_litellm"]

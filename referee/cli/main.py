"""The ``referee`` command: one Typer app whose commands are loaded when used (``lazy``)."""

from __future__ import annotations

import logging
import os
import sys

# Set before litellm / transformers are imported anywhere: no network fetch of litellm's price
# map, no download progress bars from the embedding model.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import typer

from referee.cli.lazy import LazyGroup

app = typer.Typer(
    name="referee",
    help="Referee: hybrid LLM-judge + human labeling for pairwise preference data.",
    cls=LazyGroup,
    rich_markup_mode=None,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


#: Referee's loggers are one per package under this one: ``referee.judge`` (fallbacks to the
#: slow path, retries, re-asks), ``referee.workers`` (chunks and their rates, stall sweeps), ...
LOGGER = "referee"


class _StderrHandler(logging.Handler):
    """One line per record on whatever ``sys.stderr`` is when the record is emitted."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


_handler: logging.Handler | None = None


def configure_logging(level: int | str) -> None:
    """Show Referee's own log records at ``level`` and above on stderr, one line each.

    Without it only warnings reach stderr (Python's last-resort handler). Third-party libraries
    keep their own levels (see :func:`_quiet_libraries`).
    """
    global _handler
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level.upper() if isinstance(level, str) else level)
    if _handler is None:
        _handler = _StderrHandler()
        _handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
        logger.addHandler(_handler)


@app.callback()
def _root(
    verbose: int = typer.Option(
        0,
        "--verbose",
        "-v",
        count=True,
        show_default=False,
        help="Log what Referee does on stderr: -v for INFO, -vv for DEBUG.",
    ),
) -> None:
    """Referee: hybrid LLM-judge + human labeling for pairwise preference data."""
    from referee.cli.common import follow_terminal_width  # lazy: start-up stays light

    follow_terminal_width()
    if verbose:
        configure_logging(logging.INFO if verbose == 1 else logging.DEBUG)


def _quiet_libraries() -> None:
    """Libraries that log every retry at ERROR level would bury our one-line messages."""
    for name in ("instructor", "LiteLLM", "litellm", "httpx", "sentence_transformers"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def run() -> None:
    """Console-script entry point."""
    _quiet_libraries()
    app()


if __name__ == "__main__":
    run()

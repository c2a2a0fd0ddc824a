"""The ``referee`` command: one Typer app whose commands are loaded when used (``lazy``)."""

from __future__ import annotations

import logging
import os

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


@app.callback()
def _root() -> None:
    """Referee: hybrid LLM-judge + human labeling for pairwise preference data."""


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

"""Commands loaded on demand: ``referee X`` imports the module of X and nothing else.

Importing every command module up front pulled scikit-learn, litellm and the rest into every
command (``referee --help`` took seconds). :class:`LazyGroup` lists commands from the static
:data:`COMMANDS` table, so ``--help`` imports no command module, and loads a command's module
only when that command runs (or its own ``--help`` is asked for).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # typer 0.2x vendors click; its classes are only named for the type checker
    from typer._click.core import Command, Context

# command name -> (modules whose ``register(app)`` define it, one-line help shown by --help)
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "config": (("admin",), "Print the effective settings (secrets masked)."),
    "status": (("admin",), "Counts of pairs, labels, judgments and decisions."),
    "db": (("admin",), "Database schema."),
    "ingest": (("ingest",), "Ingest pairs (id, prompt, response_a, response_b, meta)."),
    "labels": (("ingest", "export"), "Human labels: import, and the final label of each pair."),
    "judgments": (("ingest",), "Recorded judge verdicts."),
    "export": (("export",), "Write final labels for training or another labeling tool."),
    "release": (("release",), "Freeze the final labels into a verifiable release; verify one."),
    "releases": (("export",), "List releases, oldest first."),
    "prelabel": (("jobs",), "Pre-label a dataset with LLM judges, both orders per judge."),
    "jobs": (("jobs",), "List pre-labeling jobs, newest first."),
    "job": (("jobs",), "Show or cancel one job."),
    "worker": (("jobs",), "Start a Celery worker for pre-labeling chunks."),
    "agreement": (("agreement",), "Agreement among human annotators (alpha, kappas)."),
    "annotators": (("agreement",), "Annotator quality: gold accuracy, kappa, pause rule."),
    "drift": (("drift",), "Accuracy and agreement over time, with a drift alarm."),
    "calibrate": (("calibrate",), "Judges against gold, and a new certified routing policy."),
    "route": (("route",), "Route every pair: auto-accept, review, spot check or frozen."),
    "reviewers": (("review",), "Add, list, deactivate, activate, pause, unpause reviewers."),
    "review": (("review",), "Review in the terminal."),
    "review-config": (("review_config",), "Annotation schema: scale, ratings, rubric."),
    "review-report": (("review_config",), "Automation bias: overrides shown vs hidden, traps."),
    "serve": (("review",), "Serve the reviewers' API."),
    "report": (("report",), "Reports: cost."),
    "incidents": (("incidents",), "Incidents (both-bad or unsafe pairs): list, export."),
    "unredact": (("privacy",), "Show a redacted pair's original values (vault key; audited)."),
    "vault": (("privacy",), "The redaction vault: make a key."),
    "demo": (("demo",), "Run the end-to-end demo on the bundled LLMBar sample."),
}


def load_command(name: str) -> Command | None:
    """The real click command ``name``, built from the modules that register it."""
    entry = COMMANDS.get(name)
    if entry is None:
        return None
    partial = typer.Typer()
    for module_name in entry[0]:
        module = importlib.import_module(f"referee.cli.{module_name}")
        module.register(partial)
    group = typer.main.get_group(partial)
    return group.commands.get(name)


class LazyGroup(TyperGroup):
    """A Typer group whose commands come from :data:`COMMANDS`, imported when used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[str, Command] = {}

    def list_commands(self, ctx: Context) -> list[str]:
        """Every command name, in the table's order."""
        return list(COMMANDS)

    def _real(self, name: str) -> Command | None:
        if name not in self._loaded:
            command = load_command(name)
            if command is None:
                return None
            self._loaded[name] = command
        return self._loaded[name]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """A light stand-in (name and help) until the command is resolved to run."""
        if cmd_name in self._loaded:
            return self._loaded[cmd_name]
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        return TyperCommand(cmd_name, help=entry[1], short_help=entry[1])

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        """Load the real command that is about to run (or print its own help)."""
        name, _, rest = super().resolve_command(ctx, args)
        if name is None:
            return name, None, rest
        return name, self._real(name), rest


__all__ = ["COMMANDS", "LazyGroup", "load_command"]

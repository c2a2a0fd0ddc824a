"""Reviewer commands: ``reviewers add|list|grant|revoke|deactivate|activate|pause|unpause``,
``review``
(terminal) and ``serve`` (REST API)."""

from __future__ import annotations

import time
from typing import Annotated

import click
import typer
from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from referee.app import reviewers as reviewer_accounts
from referee.app.terminal_review import TerminalReview
from referee.cli.common import (
    EmbedderChoice,
    embedder_of,
    emit_json,
    fail,
    load_settings,
    open_database,
    stderr,
    stdout,
    user_errors,
)
from referee.review.config import QueueConfig
from referee.review.schema import FIVE_POINT, Schema
from referee.review.service import LabelSubmission, Lease, ReviewItem
from referee.review.warmup import (
    preload_embedder,
    rehearse_lease,
    settle_heap,
    warm_queues,
)

SIDE_BY_SIDE_WIDTH = 140

reviewers_app = typer.Typer(help="Manage reviewer accounts (one API token each).")


@reviewers_app.command("add")
def reviewers_add(
    name: Annotated[str, typer.Argument(help="Unique reviewer name.")],
    role: Annotated[
        str,
        typer.Option(
            help="reviewer; lead (the token also opens the lead's page /lead, and answers "
            "incidents); expert (adjudicates spot checks that disagreed with the AI first); "
            "incident (answers the incident queue only)."
        ),
    ] = "reviewer",
    dataset: Annotated[
        list[str] | None,
        typer.Option("--dataset", help="A dataset the token may open (repeat; see 'grant')."),
    ] = None,
) -> None:
    """Create a reviewer and print their API token (shown once; only its hash is stored)."""
    engine = open_database(load_settings())
    with user_errors():
        token = reviewer_accounts.create_reviewer(engine, name, role, dataset or [])
    what = {"lead": "Lead", "expert": "Expert", "incident": "Incident reviewer"}.get(
        role, "Reviewer"
    )
    stderr.print(f"{what} {name!r} created. Their token (shown once, store it now):")
    typer.echo(token)


def _set_active(name: str, active: bool) -> None:
    engine = open_database(load_settings())
    with user_errors():
        released = reviewer_accounts.set_active(engine, name, active)
    if active:
        stderr.print(f"Reviewer {name!r} is active; their token works again.")
    else:
        stderr.print(
            f"Reviewer {name!r} is deactivated: their token is refused from now on, and "
            f"{released} item(s) they held went back to the queue. Their labels stay."
        )


@reviewers_app.command("deactivate")
def reviewers_deactivate(
    name: Annotated[str, typer.Argument(help="The reviewer to deactivate.")],
) -> None:
    """Refuse a reviewer's token from now on and give the items they hold back to the queue."""
    _set_active(name, False)


@reviewers_app.command("activate")
def reviewers_activate(
    name: Annotated[str, typer.Argument(help="The reviewer to re-activate.")],
) -> None:
    """Accept a deactivated reviewer's token again."""
    _set_active(name, True)


@reviewers_app.command("pause")
def reviewers_pause(
    name: Annotated[str, typer.Argument(help="The reviewer to pause.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (shown to the reviewer).")
    ] = None,
) -> None:
    """Serve a reviewer no new items until a lead unpauses them (audited)."""
    engine = open_database(load_settings())
    with user_errors():
        changed = reviewer_accounts.pause_reviewer(engine, name, True, reason)
    state = "is now paused" if changed else "was already paused"
    stderr.print(f"Reviewer {name!r} {state}: no new items until 'referee reviewers unpause'.")


@reviewers_app.command("unpause")
def reviewers_unpause(name: Annotated[str, typer.Argument(help="The reviewer to resume.")]) -> None:
    """Serve a paused reviewer again; the pause rule then counts only their new answers."""
    engine = open_database(load_settings())
    with user_errors():
        changed = reviewer_accounts.pause_reviewer(engine, name, False)
    state = "is unpaused" if changed else "was not paused"
    stderr.print(f"Reviewer {name!r} {state}; the pause rule counts only answers from now on.")


@reviewers_app.command("list")
def reviewers_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """List reviewers with the number of items each labeled and the datasets they may open."""
    engine = open_database(load_settings())
    with user_errors():
        rows = reviewer_accounts.reviewers(engine)
    if as_json:
        emit_json(rows)
        return
    table = Table("reviewer", "active", "created", "labeled", "paused", "datasets")
    for r in rows:
        table.add_row(
            r["name"],
            "yes" if r["active"] else "no",
            r["created_at"][:19],
            str(r["labeled"]),
            "-" if r["paused_reason"] is None else f"paused: {r['paused_reason']}",
            ", ".join(r["datasets"]) or "-",
        )
    stdout.print(table if rows else "No reviewers yet; add one with 'referee reviewers add NAME'.")


# ``grant`` and ``revoke``: which datasets a token may open (:mod:`referee.review.membership`).
DatasetOption = Annotated[
    list[str], typer.Option("--dataset", help="A dataset (repeat for several).")
]


def reviewers_grant(
    name: Annotated[str, typer.Argument(help="The reviewer or lead.")],
    dataset: DatasetOption,
) -> None:
    """Let a reviewer's (or lead's) token open a dataset: lease, label, see its progress."""
    _change_access(name, dataset, True, ("may now open", "could already open"))


def reviewers_revoke(
    name: Annotated[str, typer.Argument(help="The reviewer or lead.")],
    dataset: DatasetOption,
) -> None:
    """Close a dataset to a reviewer's token (their labels stay; open leases lapse)."""
    _change_access(name, dataset, False, ("may no longer open", "could not open"))


def _change_access(
    name: str,
    datasets: list[str],
    granted: bool,
    states: tuple[str, str],
) -> None:
    """Grant (``granted``) or revoke per dataset in one transaction; say what each did."""
    engine = open_database(load_settings())
    with user_errors():
        changed = reviewer_accounts.change_access(engine, name, datasets, granted=granted)
    for d in datasets:
        state = states[0] if d in changed else states[1]
        stderr.print(f"Reviewer {name!r} {state} dataset {d!r}.")


reviewers_app.command("grant")(reviewers_grant)
reviewers_app.command("revoke")(reviewers_revoke)

# The queue options `referee review` and `referee serve` share (defaults in each signature:
# typer reads them from there).
ReviewersPerItem = Annotated[
    int, typer.Option(help="Labels that complete a review item (k).", min=1)
]
SpotCheckReviewers = Annotated[
    int, typer.Option(help="Labels that complete a spot-check item.", min=1)
]
GoldRate = Annotated[float, typer.Option(help="Share of items that are hidden gold checks.")]
ShowAiLabel = Annotated[bool, typer.Option(help="Show reviewers the AI label.")]
RevealShare = Annotated[
    float,
    typer.Option(
        help="With --show-ai-label: share of items whose AI label is shown (the same items on "
        "every reload; the rest measure the reviewer without it).",
    ),
]
TrapRate = Annotated[
    float,
    typer.Option(
        help="With --show-ai-label: share of items that are traps (gold pairs shown with a "
        "wrong AI label); 'referee review-report' gives each reviewer's catch rate.",
    ),
]


def _queue_config(
    lease_seconds: int, k: int, spot_k: int, gold: float, show: bool, share: float, traps: float
) -> QueueConfig:
    """The queue configuration of the shared options; a refused value is a user error."""
    try:
        return QueueConfig(
            lease_seconds=lease_seconds,
            review_k=k,
            spot_check_k=spot_k,
            gold_rate=gold,
            reveal_ai_label=show,
            reveal_share=share,
            trap_rate=traps,
        )
    except ValueError as exc:
        fail(str(exc))


_TURN_STYLES = {"system": "bright_black", "user": "cyan", "assistant": "green", "tool": "yellow"}


def prompt_view(item: ReviewItem) -> RenderableType:
    """The prompt as a panel; a conversation as one panel per turn, titled with its role.

    Every text is a :class:`rich.text.Text`, so markup in the data is shown, never interpreted.
    """
    if not item.messages:
        return Panel(Text(item.prompt), title="Prompt", border_style="cyan")
    turns = [
        Panel(
            Text(turn["content"]),
            title=Text(turn["role"].capitalize(), style="bold"),
            title_align="left",
            border_style=_TURN_STYLES.get(turn["role"], "white"),
        )
        for turn in item.messages
    ]
    title = f"Conversation ({len(turns)} turns)"
    return Panel(Group(*turns), title=title, border_style="cyan")


def show_item(lease: Lease, number: int) -> None:
    """Print the prompt (or the conversation, turn by turn) and both responses as panels (side
    by side on wide terminals)."""
    item = lease.item
    stdout.rule(f"item {number} · {item.pair_id}")
    stdout.print(prompt_view(item))
    a = Panel(Text(item.response_a), title="Response A", border_style="green")
    b = Panel(Text(item.response_b), title="Response B", border_style="magenta")
    if stdout.width >= SIDE_BY_SIDE_WIDTH:
        stdout.print(Columns([a, b], equal=True, expand=True))
    else:
        stdout.print(a)
        stdout.print(b)
    if item.ai_label is not None:
        stdout.print(f"AI label: {item.ai_label}")


# The terminal review's questions under a dataset's schema (:mod:`referee.review.schema`).
#
# On a 5-point dataset keys ``1``-``5`` answer A≫B, A>B, tie, B>A, B≫A, and ``A`` / ``B`` are
# followed by a strength question; every rating dimension is asked 1-5; the rationale is asked
# (and insisted on) when the schema requires it, or offered when ``--ask-rationale`` is given.
KEYS = {"a": "A", "b": "B", "t": "tie", "x": "both_bad"}


def ask_key(schema: Schema) -> str:
    """One of ``a b t x s q`` (and ``1``-``5`` on a 5-point dataset), lower-cased."""
    choices = ["a", "b", "t", "x", "s", "q"]
    text = "[A] A better  [B] B better  [T] tie  [X] both bad  [S] skip  [Q] quit"
    if schema.scale == 5:
        choices += ["1", "2", "3", "4", "5"]
        text = "[1] A≫B [2] A>B [3] tie [4] B>A [5] B≫A  [A]/[B] then strength  " + text[27:]
    key: str = click.prompt(
        text, type=click.Choice(choices, case_sensitive=False), show_choices=False
    )
    return key.lower()


def label_of(key: str, schema: Schema) -> tuple[str, str | None]:
    """The label and strength a key answers, asking the strength of A / B on a 5-point scale."""
    if key.isdigit():
        return FIVE_POINT[int(key) - 1]
    label = KEYS[key]
    if schema.scale != 5 or label not in ("A", "B"):
        return label, None
    much: str = click.prompt(
        f"How much better is {label}? [M] much ({label}≫)  [S] slightly ({label}>)",
        type=click.Choice(["m", "s"], case_sensitive=False),
        show_choices=False,
    )
    return label, "much" if much.lower() == "m" else "slight"


def ask_ratings(schema: Schema) -> dict[str, int] | None:
    """A 1-5 rating of every dimension of the schema (None without dimensions)."""
    if not schema.dimensions:
        return None
    return {
        name: int(click.prompt(f"Rate {name} (1-5)", type=click.IntRange(1, 5)))
        for name in schema.dimensions
    }


def ask_rationale_text(schema: Schema, label: str, offer: bool) -> str | None:
    """The rationale: insisted on when the schema requires it, asked when ``offer``."""
    rule = schema.require_rationale
    required = rule == "always" or (rule == "both_bad" and label == "both_bad")
    if not required and not offer:
        return None
    while True:
        text: str = click.prompt(
            "Rationale (required)" if required else "Rationale (optional)",
            default="",
            show_default=False,
        )
        if text.strip() or not required:
            return text.strip() or None
        stderr.print("This dataset requires a rationale with this answer.")


def _ask_reason() -> str:
    while True:
        reason: str = click.prompt(
            "Why are both responses bad? (required)", default="", show_default=False
        )
        if reason.strip():
            return reason.strip()
        stderr.print("A reason is required for 'both bad'.")


def _ask_submission(
    key: str, schema: Schema, offer_rationale: bool, started: float
) -> LabelSubmission:
    """The label a key answers, with the reason, ratings and rationale the schema asks for."""
    label, strength = label_of(key, schema)  # the dataset's review schema
    reason = _ask_reason() if label == "both_bad" else None
    ratings = ask_ratings(schema)
    rationale = ask_rationale_text(schema, label, offer_rationale)
    return LabelSubmission(
        label,
        rationale,
        reason,
        time.monotonic() - started,
        strength=strength,
        ratings=ratings,
    )


def review(
    dataset: Annotated[str, typer.Option(help="Dataset whose queue to work on.")],
    reviewer: Annotated[str, typer.Option(help="Your reviewer name.")],
    reviewers_per_item: ReviewersPerItem = 1,
    spot_check_reviewers: SpotCheckReviewers = 1,
    gold_rate: GoldRate = 0.1,
    show_ai_label: ShowAiLabel = False,
    reveal_share: RevealShare = 0.5,
    trap_rate: TrapRate = 0.05,
    ask_rationale: Annotated[
        bool, typer.Option(help="Ask for an optional rationale after each label.")
    ] = False,
    embedder: EmbedderChoice = "auto",
) -> None:
    """Label queue items in the terminal: A/B/T/X, S to skip, Q to quit."""
    settings = load_settings()
    config = _queue_config(
        settings.lease_seconds, reviewers_per_item, spot_check_reviewers, gold_rate,
        show_ai_label, reveal_share, trap_rate,
    )  # fmt: skip
    engine = open_database(settings)
    vectors = embedder_of(embedder)
    labeled = skipped = 0
    with user_errors():  # a lost lease exits 1, any other review error 2
        work = TerminalReview.open(engine, dataset, reviewer, config, vectors)
        while (lease := work.next()) is not None:
            show_item(lease, labeled + skipped + 1)
            started = time.monotonic()
            key = ask_key(work.schema)
            if key in ("s", "q"):
                work.skip(lease.item.pair_id)
                if key == "q":
                    break
                skipped += 1
                continue
            submission = _ask_submission(key, work.schema, ask_rationale, started)
            work.answer(lease.item.pair_id, submission)
            labeled += 1
        else:
            stdout.print(f"No items left for {reviewer} in {dataset}.")
    stdout.print(f"Labeled {labeled}, skipped {skipped}.")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    reviewers_per_item: ReviewersPerItem = 1,
    spot_check_reviewers: SpotCheckReviewers = 1,
    gold_rate: GoldRate = 0.1,
    show_ai_label: ShowAiLabel = False,
    reveal_share: RevealShare = 0.5,
    trap_rate: TrapRate = 0.05,
    embedder: EmbedderChoice = "auto",
    docs: Annotated[
        bool, typer.Option("--docs", help="Serve the API reference (/docs) to leads.")
    ] = False,
    max_body_bytes: Annotated[
        int | None,
        typer.Option(help="Largest request body, bytes (REFEREE_MAX_BODY_BYTES).", min=1024),
    ] = None,
) -> None:
    """Run the reviewers' REST API and web pages with uvicorn (/ review page, /lead)."""
    import uvicorn

    from referee.api.app import create_app

    overrides = {} if max_body_bytes is None else {"max_body_bytes": max_body_bytes}
    settings = load_settings(**overrides)
    config = _queue_config(
        settings.lease_seconds, reviewers_per_item, spot_check_reviewers, gold_rate,
        show_ai_label, reveal_share, trap_rate,
    )  # fmt: skip
    engine = open_database(settings)
    if host not in ("127.0.0.1", "localhost", "::1"):
        stderr.print(
            f"note: listening on {host}; tokens travel in clear text unless a TLS proxy "
            "sits in front"
        )
    chosen = embedder_of(embedder)
    warm = warm_queues(engine, config, chosen)  # before listening: no request pays for it
    if warm.rebuilt:
        stderr.print(f"review queues built in {warm.seconds:.1f} s: {', '.join(warm.rebuilt)}")
    rehearse_lease(engine, config, chosen)
    settle_heap()
    if not warm.rebuilt:  # else the model is loaded already
        preload_embedder(chosen)
    api = create_app(engine, settings, config=config, embedder=chosen, docs=docs)
    stderr.print(
        f"review page: http://{host}:{port}/#dataset=NAME&token=TOKEN · lead page: "
        f"http://{host}:{port}/lead (the token stays in the address fragment, never sent)"
    )
    uvicorn.run(api, host=host, port=port)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(reviewers_app, name="reviewers")
    app.command("review")(review)
    app.command("serve")(serve)

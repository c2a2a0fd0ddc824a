"""The terminal review's questions under a dataset's schema (:mod:`referee.review.schema`).

On a 5-point dataset keys ``1``-``5`` answer A≫B, A>B, tie, B>A, B≫A, and ``A`` / ``B`` are
followed by a strength question; every rating dimension is asked 1-5; the rationale is asked
(and insisted on) when the schema requires it, or offered when ``--ask-rationale`` is given.
"""

from __future__ import annotations

import click

from referee.cli.common import stderr
from referee.review.schema import FIVE_POINT, Schema

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


def ask_rationale(schema: Schema, label: str, offer: bool) -> str | None:
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


__all__ = ["KEYS", "ask_key", "ask_ratings", "ask_rationale", "label_of"]

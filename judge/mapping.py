"""The order mapping: what the judge saw ("Response 1"/"Response 2") to the pair's own A/B.

In order ``AB`` response_a is shown as Response 1; in order ``BA`` response_b is. ``tie`` and
``both_bad`` mean the same thing in both frames. The two functions are inverses of each other
for every (verdict, order).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from judge.labels import Label, Order

ShownWinner = Literal["first", "second", "tie", "both_bad"]
SHOWN_WINNERS: Final[tuple[ShownWinner, ...]] = get_args(ShownWinner)

_TO_ORIGINAL: Final[dict[Order, dict[ShownWinner, Label]]] = {
    "AB": {"first": "A", "second": "B", "tie": "tie", "both_bad": "both_bad"},
    "BA": {"first": "B", "second": "A", "tie": "tie", "both_bad": "both_bad"},
}
_TO_SHOWN: Final[dict[Order, dict[Label, ShownWinner]]] = {
    order: {label: shown for shown, label in table.items()} for order, table in _TO_ORIGINAL.items()
}


def to_original(shown: ShownWinner, order: Order) -> Label:
    """The original-frame label of a verdict ``shown`` given with the pair shown in ``order``."""
    return _TO_ORIGINAL[order][shown]


def to_shown(label: Label, order: Order) -> ShownWinner:
    """The verdict a judge shown ``order`` must give to mean the original-frame ``label``."""
    return _TO_SHOWN[order][label]


def shown_texts(response_a: str, response_b: str, order: Order) -> tuple[str, str]:
    """(Response 1, Response 2) for the pair shown in ``order``."""
    return (response_a, response_b) if order == "AB" else (response_b, response_a)


__all__ = ["SHOWN_WINNERS", "ShownWinner", "shown_texts", "to_original", "to_shown"]

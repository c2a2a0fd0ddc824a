"""The order mapping, for every verdict x order, and how two orders combine."""

from __future__ import annotations

import itertools

import pytest

from judge.labels import LABELS, ORDERS
from judge.mapping import SHOWN_WINNERS, shown_texts, to_original, to_shown
from judge.pipeline import combine
from judge.types import OrderVerdict

# Written out by hand: in AB, Response 1 is response_a; in BA, Response 1 is response_b.
EXPECTED = {
    ("first", "AB"): "A",
    ("second", "AB"): "B",
    ("tie", "AB"): "tie",
    ("both_bad", "AB"): "both_bad",
    ("first", "BA"): "B",
    ("second", "BA"): "A",
    ("tie", "BA"): "tie",
    ("both_bad", "BA"): "both_bad",
}


@pytest.mark.parametrize(("shown", "order"), sorted(EXPECTED))
def test_to_original_every_verdict_and_order(shown: str, order: str) -> None:
    assert to_original(shown, order) == EXPECTED[(shown, order)]  # type: ignore[arg-type]


@pytest.mark.parametrize(("label", "order"), list(itertools.product(LABELS, ORDERS)))
def test_to_shown_inverts_to_original(label: str, order: str) -> None:
    shown = to_shown(label, order)  # type: ignore[arg-type]
    assert to_original(shown, order) == label  # type: ignore[arg-type]
    assert EXPECTED[(shown, order)] == label


def test_table_covers_every_combination() -> None:
    assert set(EXPECTED) == set(itertools.product(SHOWN_WINNERS, ORDERS))


def test_shown_texts_puts_the_right_response_first() -> None:
    assert shown_texts("a", "b", "AB") == ("a", "b")
    assert shown_texts("a", "b", "BA") == ("b", "a")


def _verdict(order: str, winner: str | None, status: str = "ok") -> OrderVerdict:
    return OrderVerdict(order=order, winner=winner, status=status, prompt_version="v")  # type: ignore[arg-type]


@pytest.mark.parametrize(("ab", "ba"), list(itertools.product(LABELS, LABELS)))
def test_combine_labels_only_agreeing_orders(ab: str, ba: str) -> None:
    result = combine("p", "j", _verdict("AB", ab), _verdict("BA", ba))
    assert result.consistent == (ab == ba)
    assert result.label == (ab if ab == ba else None)


def test_combine_never_labels_an_unparseable_order() -> None:
    result = combine(
        "p", "j", _verdict("AB", None, "unparseable"), _verdict("BA", None, "unparseable")
    )
    assert not result.consistent
    assert result.label is None

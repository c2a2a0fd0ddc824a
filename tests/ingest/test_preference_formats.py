"""The pure readers of #22: TRL and HH-RLHF rows, the shared-prefix split, A/B by hash, designs."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import pytest

from formats.hh_rlhf import parse_transcript, read_hh_row
from formats.kwise import Design, DesignError, design_pairs, first_is_a, pair_id, parse_design
from formats.preference import PreferenceRow, chosen_is_a, to_pair
from formats.trl import read_trl_row
from judge.conversation import Message

DATA = Path(__file__).parent / "data"


def rows(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines()]


def test_hh_transcript_becomes_turns_and_the_shared_prefix_is_the_prompt() -> None:
    row = read_hh_row(rows("hh_rlhf.jsonl")[1])
    assert isinstance(row, PreferenceRow)
    assert row.prompt == (
        Message("user", "Can you help me plan a trip to Lisbon?"),
        Message("assistant", "Sure! How many days will you stay?"),
        Message("user", "Three days, in May."),
    )
    assert row.chosen.startswith("Day 1: Alfama")
    assert row.rejected == "Lisbon is in Portugal."


def test_hh_text_before_the_first_marker_is_refused() -> None:
    with pytest.raises(ValueError, match="must start with"):
        parse_transcript("Hello\n\nHuman: hi\n\nAssistant: yo", "chosen")


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [(2, "chosen[1]", "differ at turn 1, before the last turn"), (3, "chosen", "share no prefix")],
)
def test_hh_records_that_differ_early_are_problems(line: int, field: str, message: str) -> None:
    result = read_hh_row(rows("hh_rlhf_bad.jsonl")[line - 1])
    assert isinstance(result, list)
    assert result[0][0] == field
    assert message in result[0][1]


def test_trl_layouts() -> None:
    explicit = read_trl_row(rows("trl_explicit.jsonl")[1])
    assert isinstance(explicit, PreferenceRow)
    assert isinstance(explicit.prompt, tuple) and explicit.prompt[0].role == "system"
    assert (explicit.chosen, explicit.rejected) == ("Rome.", "Milan.")
    implicit = read_trl_row(rows("trl_implicit.jsonl")[1])
    assert isinstance(implicit, PreferenceRow)
    assert [m.content for m in implicit.prompt] == ["Hi", "Hello!", "Say a number"]
    assert (implicit.chosen, implicit.rejected) == ("Seven.", "Banana.")
    standard = read_trl_row(rows("trl_standard.jsonl")[0])
    assert isinstance(standard, PreferenceRow)
    assert (standard.prompt, standard.chosen) == ("The sky is", " blue.")


def test_trl_implicit_strings_and_two_message_replies_are_refused() -> None:
    strings = read_trl_row({"chosen": "The sky is blue.", "rejected": "The sky is green."})
    assert isinstance(strings, list) and strings[0][0] == "prompt"
    two = read_trl_row(
        {
            "prompt": [{"role": "user", "content": "q"}],
            "chosen": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}],
            "rejected": [{"role": "assistant", "content": "c"}],
        }
    )
    assert isinstance(two, list) and two[0][0] == "chosen"
    assert "exactly one message" in two[0][1]


def test_a_is_the_chosen_reply_about_half_the_time_and_always_the_same_for_a_row() -> None:
    made = [PreferenceRow(f"question {i}", f"good {i}", f"bad {i}") for i in range(2000)]
    share = sum(chosen_is_a(row) for row in made) / len(made)
    assert 0.45 < share < 0.55
    assert [chosen_is_a(row) for row in made[:50]] == [chosen_is_a(row) for row in made[:50]]
    # swapping chosen and rejected does not change which TEXT is A: A never follows the label
    for row in made[:200]:
        flipped = PreferenceRow(row.prompt, row.rejected, row.chosen)
        assert to_pair(row, "x").response_a == to_pair(flipped, "x").response_a
        assert to_pair(row, "x").id == to_pair(flipped, "x").id


def test_design_all_and_round_robin() -> None:
    assert design_pairs(4, parse_design("all")) == list(combinations(range(4), 2))
    five = design_pairs(5, parse_design("round-robin:2"))
    assert len(five) == 5
    assert all(sum(i in pair for pair in five) >= 2 for i in range(5))
    assert design_pairs(4, Design("round-robin", 3)) == design_pairs(4, parse_design("all"))


@pytest.mark.parametrize("k", range(2, 12))
@pytest.mark.parametrize("r", range(1, 11))
def test_round_robin_covers_every_response_r_times_with_few_pairs(k: int, r: int) -> None:
    pairs = design_pairs(k, Design("round-robin", r))
    degrees = [sum(i in pair for pair in pairs) for i in range(k)]
    want = min(r, k - 1)
    assert min(degrees) >= want
    assert len(set(pairs)) == len(pairs) and all(i < j for i, j in pairs)
    # regular: at most one over R, and only when k and R are both odd (no R-regular graph)
    assert max(degrees) <= want + (1 if k % 2 == 1 and want % 2 == 1 else 0)


@pytest.mark.parametrize("spec", ["some", "round-robin", "round-robin:0", "round-robin:x"])
def test_bad_designs_are_refused(spec: str) -> None:
    with pytest.raises(DesignError, match="--pairs"):
        parse_design(spec)


def test_kwise_ids_and_sides_do_not_depend_on_argument_order() -> None:
    assert pair_id("r1", "0", "3") == pair_id("r1", "3", "0") == "r1|0|3"
    assert first_is_a("r1", "0", "3") != first_is_a("r1", "3", "0")
    long = pair_id("x" * 199, "0", "1")
    assert len(long) <= 200 and long != pair_id("x" * 199, "0", "2")
    share = sum(first_is_a(f"r{i}", "0", "1") for i in range(2000)) / 2000
    assert 0.45 < share < 0.55

"""The replay judge on the real LLMBar recordings, and on small hand-made files."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path

import pytest

from judge.errors import JudgeConfigError, ReplayMissError
from judge.pipeline import build_judge, judge_pair
from judge.spec import RECORDED_PROMPT_VERSION, parse_judge_spec
from judge.types import PairText


def _pairs(path: Path) -> list[PairText]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [PairText(r["id"], r["prompt"], r["response_a"], r["response_b"]) for r in rows]


def _recorded(path: Path, judge: str) -> dict[tuple[str, str], str | None]:
    found: dict[tuple[str, str], str | None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["judge"] == judge:
            found.setdefault((row["pair_id"], row["order"]), row["winner"])
    return found


def test_a_file_with_several_judges_needs_one_named(shared_data: Path) -> None:
    path = shared_data / "llmbar" / "judgments.jsonl"
    with pytest.raises(JudgeConfigError) as caught:
        parse_judge_spec(f"replay:{path}")
    assert "gpt-4/vanilla" in str(caught.value) and "18 judges" in str(caught.value)
    with pytest.raises(JudgeConfigError, match="no recorded judge"):
        parse_judge_spec(f"replay:{path}#gpt-9/vanilla")


def test_replay_reproduces_the_recorded_llmbar_verdicts(shared_data: Path) -> None:
    path = shared_data / "llmbar" / "judgments.jsonl"
    judge = build_judge(parse_judge_spec(f"replay:{path}#gpt-4/vanilla"))
    assert judge.name == "gpt-4/vanilla" and judge.prompt_version == RECORDED_PROMPT_VERSION
    recorded = _recorded(path, "gpt-4/vanilla")
    pairs = _pairs(shared_data / "llmbar" / "pairs.jsonl")

    async def run() -> list:  # type: ignore[type-arg]
        return await asyncio.gather(*(judge_pair(p, judge) for p in pairs))

    results = asyncio.run(run())
    flips = 0
    for result in results:
        for verdict in result.verdicts():
            assert verdict.winner == recorded[(result.pair_id, verdict.order)]
            assert verdict.prompt_version == "recorded"
        flips += result.ab.winner != result.ba.winner
    # the data README: GPT-4 (vanilla) changes its answer on swap for 7.2% of pairs
    assert flips / len(results) == pytest.approx(0.072, abs=0.005)


def _write(path: Path, rows: list[dict]) -> Path:  # type: ignore[type-arg]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_unknown_pairs_are_an_error_and_null_winners_unparseable(tmp_path: Path) -> None:
    file = _write(
        tmp_path / "j.jsonl",
        [
            {"pair_id": "p1", "judge": "x", "order": "AB", "winner": "B", "raw": "b wins"},
            {"pair_id": "p1", "judge": "x", "order": "BA", "winner": None, "raw": "???"},
            {"pair_id": "p2", "judge": "x", "order": "AB", "winner": "tie", "confidence": 0.7},
        ],
    )
    judge = build_judge(parse_judge_spec(f"replay:{file}"))
    assert judge.name == "x"
    result = asyncio.run(judge_pair(PairText("p1", "q", "a", "b"), judge))
    assert result.ab.winner == "B" and result.ab.status == "ok"
    assert result.ba.status == "unparseable" and result.ba.raw == "???"
    assert result.label is None
    with pytest.raises(ReplayMissError, match="order BA of pair 'p2'") as partial:
        asyncio.run(judge_pair(PairText("p2", "q", "a", "b"), judge))
    assert partial.value.partial[("x", "AB")].confidence == 0.7
    with pytest.raises(ReplayMissError, match="pair 'nope'"):
        asyncio.run(judge_pair(PairText("nope", "q", "a", "b"), judge))


def test_bad_lines_name_file_line_and_field(tmp_path: Path) -> None:
    good = {"pair_id": "p1", "judge": "x", "order": "AB", "winner": "A"}
    file = _write(tmp_path / "bad.jsonl", [good, {**good, "order": "CD"}])
    with pytest.raises(JudgeConfigError, match=r"bad\.jsonl:2: field 'order'"):
        parse_judge_spec(f"replay:{file}")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"pair_id": \n', encoding="utf-8")
    with pytest.raises(JudgeConfigError, match=r"broken\.jsonl:1: not valid JSON"):
        parse_judge_spec(f"replay:{broken}")
    with pytest.raises(JudgeConfigError, match="not found"):
        parse_judge_spec(f"replay:{tmp_path / 'missing.jsonl'}")


def test_a_replayed_and_an_imported_verdict_share_their_keys(tmp_path: Path) -> None:
    rows = [{"pair_id": "p", "judge": "gpt-4/cot", "order": o, "winner": "A"} for o in ("AB", "BA")]
    judge = build_judge(parse_judge_spec(f"replay:{_write(tmp_path / 'k.jsonl', rows)}"))
    result = asyncio.run(judge_pair(PairText("p", "q", "a", "b"), judge))
    keys = defaultdict(list)
    for v in result.verdicts():
        keys[(result.judge, v.order, v.prompt_version)].append(v.winner)
    assert set(keys) == {("gpt-4/cot", "AB", "recorded"), ("gpt-4/cot", "BA", "recorded")}


def test_a_recorded_prompt_version_and_signals_are_kept(tmp_path: Path) -> None:
    rows = [
        {
            "pair_id": "p",
            "judge": "j",
            "order": o,
            "winner": "B",
            "prompt_version": "house-v3",
            "logprob_confidence": 0.6,
            "tokens_in": 100,
            "tokens_out": 7,
            "cost": 0.001,
        }
        for o in ("AB", "BA")
    ]
    judge = build_judge(parse_judge_spec(f"replay:{_write(tmp_path / 'v.jsonl', rows)}"))
    assert judge.prompt_version == "house-v3"
    result = asyncio.run(judge_pair(PairText("p", "q", "a", "b"), judge))
    assert result.label == "B" and result.ab.prompt_version == "house-v3"
    assert (result.ab.logprob_confidence, result.ab.tokens_in, result.ab.cost) == (0.6, 100, 0.001)
    mixed = [rows[0], {**rows[1], "prompt_version": "house-v4"}]
    with pytest.raises(JudgeConfigError, match="several prompt versions"):
        build_judge(parse_judge_spec(f"replay:{_write(tmp_path / 'm.jsonl', mixed)}"))

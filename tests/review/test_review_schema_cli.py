"""``referee review-config``, the terminal review under a 5-point schema with ratings, and
``referee labels final`` carrying strength, ratings and the rubric version."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from review_factory import make_routed_dataset
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from formats.schema_fields import deciding_fields
from referee.cli.main import app
from referee.db.engine import transaction
from referee.db.models import HumanLabel
from referee.review.final_labels import Vote
from tests.helpers import run_cli


def config_json(url: str, *args: str) -> dict[str, object]:
    result = run_cli(url, "review-config", *args, "--json")
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def test_review_config_shows_sets_and_versions(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=1)
    name = routed.name
    first = config_json(sqlite_url, "--dataset", name)
    assert (first["scale"], first["dimensions"], first["version"]) == (3, [], 1)
    assert "changed" not in first
    rules = tmp_path / "rules.md"
    rules.write_text("# House rules\n\nSafety first.\n", encoding="utf-8")
    doc = config_json(
        sqlite_url,
        "--dataset",
        name,
        "--scale",
        "5",
        "--dimensions",
        "helpfulness, safety",
        "--require-rationale",
        "both_bad",
        "--guidelines",
        str(rules),
    )
    assert doc["changed"] is True and doc["version"] == 2 and doc["rubric_version"] == "v2"
    assert doc["dimensions"] == ["helpfulness", "safety"] and doc["scale"] == 5
    assert doc["require_rationale"] == "both_bad"
    assert doc["guidelines"] == "# House rules\n\nSafety first.\n"
    same = config_json(sqlite_url, "--dataset", name, "--scale", "5")
    assert same["changed"] is False and same["version"] == 2
    shown = run_cli(sqlite_url, "review-config", "--dataset", name)
    assert shown.exit_code == 0 and "v2" in shown.stdout and "helpfulness, safety" in shown.stdout

    for args, message in (
        (["--scale", "4"], "scale must be 3 or 5"),
        (["--require-rationale", "sometimes"], "never, both_bad, always"),
        (["--dimensions", "no way"], "lower-case letters"),
        (["--dimensions", "a,a"], "named twice"),
        (["--guidelines", str(tmp_path / "missing.md")], "cannot read"),
    ):
        bad = run_cli(sqlite_url, "review-config", "--dataset", name, *args)
        assert bad.exit_code == 2 and message in bad.stderr, (args, bad.stderr)
    unknown = run_cli(sqlite_url, "review-config", "--dataset", "nope")
    assert unknown.exit_code == 2 and "nope" in unknown.stderr
    assert config_json(sqlite_url, "--dataset", name)["version"] == 2  # refusals changed nothing


def test_terminal_review_asks_the_schema(sqlite_url: str, sqlite_engine: Engine) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=3)
    assert run_cli(sqlite_url, "reviewers", "add", "ann").exit_code == 0
    assert (
        run_cli(
            sqlite_url,
            "review-config",
            "--dataset",
            routed.name,
            "--scale",
            "5",
            "--dimensions",
            "helpfulness",
            "--require-rationale",
            "always",
        ).exit_code
        == 0
    )
    # item 1: key 5 (B≫A), rating 4, an empty rationale refused, then one;
    # item 2: A then "slightly", rating 9 refused then 2, rationale; then quit
    keys = "5\n4\n\nB is right\na\ns\n9\n2\nA is shorter\nq\n"
    args = ["review", "--dataset", routed.name, "--reviewer", "ann", "--embedder", "tfidf"]
    result = CliRunner().invoke(
        app, args, input=keys, env={"REFEREE_DATABASE_URL": sqlite_url}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "requires a rationale" in result.stderr
    with transaction(sqlite_engine) as s:
        rows = s.execute(
            select(
                HumanLabel.label,
                HumanLabel.strength,
                HumanLabel.ratings,
                HumanLabel.rationale,
                HumanLabel.rubric_version,
            ).order_by(HumanLabel.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("B", "much", {"helpfulness": 4}, "B is right", "v2"),
        ("A", "slight", {"helpfulness": 2}, "A is shorter", "v2"),
    ]
    final = run_cli(sqlite_url, "labels", "final", "--dataset", routed.name, "--json")
    assert final.exit_code == 0, final.output
    rows_out = json.loads(final.stdout)["rows"]
    labeled = [r for r in rows_out if r["label"] is not None]
    assert {(r["label"], r["strength"], json.dumps(r["ratings"])) for r in labeled} == {
        # the full export's type-stable layout: ratings as [{dimension, score}]
        ("B", "much", '[{"dimension": "helpfulness", "score": 4}]'),
        ("A", "slight", '[{"dimension": "helpfulness", "score": 2}]'),
    }
    assert {r["rubric_version"] for r in labeled} == {"v2"}


def vote(
    label: str, strength: str | None, ratings: dict[str, int] | None, kind: str = "review"
) -> Vote:
    return Vote(
        "x", label, kind, datetime.now(UTC), None, None, None, False, strength, ratings, "v2"
    )


def test_deciding_fields_by_hand() -> None:
    votes = [
        vote("A", "much", {"h": 5, "s": 2}),
        vote("A", "slight", {"h": 4, "s": 3}),
        vote("A", "much", {"h": 4}),
        vote("B", "much", {"h": 1, "s": 1}),  # not deciding
    ]
    got = deciding_fields("A", "human", votes)
    assert got.strength == "much"  # 2 much, 1 slight
    assert got.ratings == {"h": 4, "s": 3}  # h: 13/3 = 4.33 -> 4; s: 2.5 -> 3 (half up)
    assert got.rubric_version == "v2"
    tie = deciding_fields("A", "human", votes[:2])
    assert tie.strength == "slight"  # a tie of strengths gives the weaker claim
    assert deciding_fields("A", "ai", votes).strength is None  # AI labels have no answers
    assert deciding_fields(None, "human", votes).ratings is None
    gold = deciding_fields("A", "gold", [vote("A", None, None, "gold"), *votes])
    assert gold.strength is None and gold.ratings is None  # only the gold labels decide

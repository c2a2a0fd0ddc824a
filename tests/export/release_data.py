"""A routed dataset built through the real CLI, plus people's answers written with the ORM."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from referee.db.engine import transaction
from referee.db.models import HumanLabel, RoutingDecision
from tests.helpers import run_cli
from tests.routing.cli_data import build_dataset, calibrate


@dataclass
class Routed:
    """What the dataset holds: truth, gold, and the current decision of every routed pair."""

    truth: dict[str, str]
    gold: set[str]
    frozen: list[str]
    decisions: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[str]:
        """Non-gold pairs whose current decision is ``kind``, sorted."""
        return sorted(p for p, (k, _) in self.decisions.items() if k == kind and p not in self.gold)


def routed_dataset(engine: Engine, url: str, tmp: Path, **build: Any) -> Routed:
    """160 synthetic pairs (100 gold, 5 frozen), calibrated and routed with 10% spot checks."""
    data = build_dataset(tmp, url, **build)
    calibrate(url)
    result = run_cli(url, "route", "--dataset", "d", "--spot-check-rate", "0.1", "--seed", "1")
    assert result.exit_code == 0, result.output
    truth: dict[str, str] = data["truth"]  # type: ignore[assignment]
    n_gold: int = data["n_gold"]  # type: ignore[assignment]
    routed = Routed(truth, set(list(truth)[:n_gold]), list(data["frozen"]))  # type: ignore[call-overload]
    with transaction(engine) as s:
        for d in s.scalars(select(RoutingDecision).where(RoutingDecision.current)):
            routed.decisions[d.pair_id] = (d.decision, d.label)
    return routed


def answer(engine: Engine, answers: list[tuple[str, str, str, str]]) -> None:
    """Store (pair, annotator, label, kind) answers; both_bad answers get a reason."""
    with transaction(engine) as s:
        for pair_id, annotator, label, kind in answers:
            s.add(
                HumanLabel(
                    pair_id=pair_id,
                    annotator=annotator,
                    label=label,
                    kind=kind,
                    reason="both answers are wrong" if label == "both_bad" else None,
                    rationale=f"my reasons for {pair_id}",
                )
            )


def answer_rated(
    engine: Engine, answers: list[tuple[str, str, str, str | None, dict[str, int]]]
) -> None:
    """Store (pair, annotator, label, strength, ratings) review answers given under a schema
    (rubric ``v2``), each with a rationale."""
    with transaction(engine) as s:
        for pair_id, annotator, label, strength, ratings in answers:
            s.add(
                HumanLabel(
                    pair_id=pair_id,
                    annotator=annotator,
                    label=label,
                    kind="review",
                    reason="both answers are wrong" if label == "both_bad" else None,
                    rationale=f"{annotator} on {pair_id}",
                    strength=strength,
                    ratings=ratings,
                    rubric_version="v2",
                )
            )


def cli_json(url: str, *args: str) -> Any:
    """Run a command with --json and parse its stdout (asserting exit 0)."""
    result = run_cli(url, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)

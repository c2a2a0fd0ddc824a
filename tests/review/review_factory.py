"""Tiny routed datasets for review tests, written with the ORM."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import Engine

from referee.db.engine import transaction
from referee.db.models import Dataset, HumanLabel, Pair, Policy, Reviewer, RoutingDecision
from referee.review.tokens import add_reviewer
from tests.helpers import grant_every_dataset

TOPICS = [
    "python list sorting",
    "french cooking recipe",
    "quantum physics basics",
    "tax law in germany",
    "guitar chords for beginners",
    "marathon training plan",
    "rust borrow checker",
    "medieval european history",
]


@dataclass
class Routed:
    """Ids of what :func:`make_routed_dataset` created."""

    name: str
    dataset_id: int
    review: list[str] = field(default_factory=list)
    spot: list[str] = field(default_factory=list)
    auto: list[str] = field(default_factory=list)
    gold: dict[str, str] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)


def _pair(dataset_id: int, pid: str, i: int) -> Pair:
    topic = TOPICS[i % len(TOPICS)]
    prompt = f"Question {i} about {topic}: explain {topic} briefly."
    return Pair(
        id=pid,
        dataset_id=dataset_id,
        prompt=prompt,
        response_a=f"Answer A on {topic}, variant {i}.",
        response_b=f"Answer B on {topic}, variant {i * 7 % 11}.",
        meta={},
        content_hash=hashlib.sha256(pid.encode()).hexdigest(),
    )


def make_routed_dataset(
    engine: Engine,
    name: str = "ds",
    *,
    n_review: int = 6,
    n_spot: int = 0,
    n_auto: int = 0,
    n_gold: int = 0,
    gold_label: str = "B",
    ai_label: str = "A",
    target: float = 0.85,
    spot_pi: float = 0.5,
) -> Routed:
    """A dataset with a policy (v1) and current decisions; gold pairs have an ``expert`` label."""
    with transaction(engine) as s:
        ds = Dataset(name=name)
        s.add(ds)
        s.flush()
        policy = Policy(dataset_id=ds.id, version=1, body={"target_agreement": target})
        s.add(policy)
        s.flush()
        out = Routed(name=name, dataset_id=ds.id)
        i = 0
        for kind, n in (("review", n_review), ("spot", n_spot), ("auto", n_auto)):
            for _ in range(n):
                pid = f"{name}-{i:03d}"
                s.add(_pair(ds.id, pid, i))
                s.flush()
                if kind == "review":
                    conf = 0.3 + 0.6 * ((i * 37) % 100) / 100
                    dec = RoutingDecision(
                        pair_id=pid,
                        policy_id=policy.id,
                        decision="human_review",
                        label=None,
                        source="human",
                        reasons=["low_confidence"],
                        confidence=conf,
                    )
                    out.review.append(pid)
                elif kind == "spot":
                    conf = 0.95
                    dec = RoutingDecision(
                        pair_id=pid,
                        policy_id=policy.id,
                        decision="spot_check",
                        label=ai_label,
                        source="ai",
                        reasons=[],
                        confidence=conf,
                        inclusion_probability=spot_pi,
                    )
                    out.spot.append(pid)
                else:
                    conf = 0.97
                    dec = RoutingDecision(
                        pair_id=pid,
                        policy_id=policy.id,
                        decision="auto_accept",
                        label=ai_label,
                        source="ai",
                        reasons=[],
                        confidence=conf,
                        inclusion_probability=spot_pi,
                    )
                    out.auto.append(pid)
                out.confidence[pid] = conf
                s.add(dec)
                i += 1
        for _ in range(n_gold):
            pid = f"{name}-{i:03d}"
            s.add(_pair(ds.id, pid, i))
            s.flush()
            s.add(HumanLabel(pair_id=pid, annotator="expert", label=gold_label, kind="gold"))
            out.gold[pid] = gold_label
            i += 1
    return out


def make_reviewer(engine: Engine, name: str) -> tuple[Reviewer, str]:
    """A reviewer and their token."""
    with transaction(engine) as s:
        reviewer, token = add_reviewer(s, name)
        grant_every_dataset(s, reviewer)
        return reviewer, token

"""Judge cascades: cheap judges first, stronger ones only where the cheaper ones are not sure.

A cascade is a sequence of *stages*, each a panel of judges (usually one) with its own
certified :class:`~calibration.policy.AcceptPolicy`. Routing walks the stages in order: the
first stage whose policy accepts a pair gives its label; a pair no stage accepts goes to
people. Only the pairs a stage did not accept are sent to the next judge, so the strong,
expensive judge sees the hard pairs only.

**Calibration** (:func:`fit_cascade`). Every stage must have judged every gold item. Stage 1's
policy is fitted by :func:`calibration.policy.fit_policy` on all the gold at level ``δ/K``
(``K`` stages); the gold items its certified rule accepts leave; stage 2's policy is fitted on
the gold items stage 1 did not accept, at ``δ/K``; and so on. A stage that certifies nothing
accepts nothing and passes every pair on.

**The guarantee** (the cascaded selective evaluation of Jung, Brahman and Choi, "Trust or
Escalate: LLM Judges with Provable Guarantees for Human Agreement", 2024, §3.3). Let the gold
items be drawn i.i.d. from the distribution of the pairs to route, with their human labels.
Each stage's test certifies, with probability at least ``1 - δ/K`` over that draw and the
seeded splits, that its rule's agreement with people is at least the target on the pairs that
*reach* it and that it accepts. By the union bound all ``K`` certificates hold together with
probability at least ``1 - δ``; then the agreement over *every* auto-accepted pair, a mixture
of the stages' accepted sets, is at least the target as well:
``P(label = human label | some stage accepts) ≥ target``. Stage ``k``'s part of the gold is
picked by the earlier stages' rules, fitted on the same gold; the simulation test
(``tests/calibration/test_cascade.py``) checks that the family-wise error of the procedure as
shipped stays at most ``δ``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from calibration.policy import DEFAULT_ACCEPT_LABELS, AcceptPolicy, PolicyFit, fit_policy
from calibration.signals import PairSignals

__all__ = [
    "CASCADE_KIND",
    "CascadeFit",
    "CascadePolicy",
    "StageReport",
    "fit_cascade",
    "is_cascade_body",
    "stage_reached",
]

CASCADE_KIND = "referee-cascade/v1"


def is_cascade_body(body: Mapping[str, Any]) -> bool:
    """True when a stored policy body is a cascade (else a single :class:`AcceptPolicy`)."""
    return body.get("kind") == CASCADE_KIND


@dataclass
class CascadePolicy:
    """The stages' policies, cheapest first; the first stage that accepts a pair labels it."""

    stages: list[AcceptPolicy]
    target_agreement: float
    delta: float

    @property
    def judges(self) -> list[str]:
        """Every stage's judges, in stage order, each once."""
        return list(dict.fromkeys(j for stage in self.stages for j in stage.judges))

    def stage_judges(self) -> list[list[str]]:
        """Each stage's panel."""
        return [list(stage.judges) for stage in self.stages]

    def accepting_stage(self, signals: PairSignals) -> int | None:
        """Index of the first stage whose policy accepts the pair, or ``None``."""
        for index, stage in enumerate(self.stages):
            if stage.accepts(signals):
                return index
        return None

    def accepts(self, signals: PairSignals) -> bool:
        """True when some stage accepts the pair."""
        return self.accepting_stage(signals) is not None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: the kind, the target, δ and every stage's policy body."""
        return {
            "kind": CASCADE_KIND,
            "judges": self.judges,
            "target_agreement": self.target_agreement,
            "delta": self.delta,
            "stages": [stage.to_json() for stage in self.stages],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> CascadePolicy:
        """Read a body written by :meth:`to_json`."""
        if not is_cascade_body(d):
            raise ValueError(f"not a cascade policy (kind {d.get('kind')!r})")
        stages = [AcceptPolicy.from_json(s) for s in d["stages"]]
        if not stages:
            raise ValueError("a cascade policy needs at least one stage")
        return cls(stages, float(d["target_agreement"]), float(d["delta"]))


def stage_reached(policy: CascadePolicy, signals: PairSignals) -> int:
    """How many stages judge the pair when the cascade runs: one more than the index of the
    stage that accepts it, or every stage when none does."""
    accepted = policy.accepting_stage(signals)
    return len(policy.stages) if accepted is None else accepted + 1


@dataclass(frozen=True)
class StageReport:
    """What one stage certified, on the gold items that reached it."""

    judges: list[str]
    gold_reaching: int
    certified: bool
    threshold: float | None
    score: str
    accepted_gold: int
    agreement_on_accepted_gold: float | None
    why: str
    more_gold_needed: int | None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "judges": self.judges,
            "gold_reaching": self.gold_reaching,
            "certified": self.certified,
            "threshold": self.threshold,
            "score": self.score,
            "accepted_gold": self.accepted_gold,
            "agreement_on_accepted_gold": self.agreement_on_accepted_gold,
            "why": self.why,
            "more_gold_needed": self.more_gold_needed,
        }


@dataclass
class CascadeFit:
    """The fitted cascade and its per-stage reports."""

    policy: CascadePolicy
    stages: list[StageReport]
    gold_items: int

    @property
    def accepted_gold(self) -> int:
        """Gold items some stage accepts."""
        return sum(s.accepted_gold for s in self.stages)

    @property
    def coverage(self) -> float:
        """Share of the gold items some stage accepts (0 without gold)."""
        return self.accepted_gold / self.gold_items if self.gold_items else 0.0

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the stored report."""
        right = [
            s.agreement_on_accepted_gold * s.accepted_gold
            for s in self.stages
            if s.agreement_on_accepted_gold is not None
        ]
        return {
            "kind": CASCADE_KIND,
            "target_agreement": self.policy.target_agreement,
            "delta": self.policy.delta,
            "delta_per_stage": self.policy.delta / len(self.stages),
            "gold_items": self.gold_items,
            "certified": any(s.certified for s in self.stages),
            "accepted_gold": self.accepted_gold,
            "certified_coverage": self.coverage,
            "agreement_on_accepted_gold": sum(right) / self.accepted_gold
            if self.accepted_gold
            else None,
            "stages": [s.to_json() for s in self.stages],
        }


def _asked(pair: PairSignals, judges: Sequence[str]) -> bool:
    """True when some judge of ``judges`` was asked about the pair (a verdict, or a call whose
    answer could not be parsed)."""
    return any(
        pair.judges[j].verdicts or pair.judges[j].unparseable_orders
        for j in judges
        if j in pair.judges
    )


def fit_cascade(
    signals: Sequence[PairSignals],
    gold: Mapping[str, str],
    *,
    stages: Sequence[Sequence[str]],
    target_agreement: float,
    delta: float,
    seed: int = 0,
    accept_labels: Sequence[str] = DEFAULT_ACCEPT_LABELS,
    use_model: bool = True,
    reports: bool = False,
) -> CascadeFit:
    """Fit one policy per stage, each on the gold items the earlier stages did not accept.

    ``stages`` lists each stage's judges, cheapest first. ``signals`` holds every pair the
    judges saw (pairs without gold inform each stage's plan when that stage judged them and no
    earlier stage accepts them). Each stage gets ``δ / len(stages)``. Raises ``ValueError``
    for an empty cascade, a judge in two stages, or a gold item some stage did not judge (the
    certificate of a later stage would then be about pairs it never saw).
    """
    gold_pairs = _check_stages(signals, gold, stages)
    share = delta / len(stages)
    remaining = list(signals)
    policies: list[AcceptPolicy] = []
    reports_out: list[StageReport] = []
    for index, stage in enumerate(stages):
        panel = list(stage)
        reaching = [p for p in remaining if p.pair_id in gold or _asked(p, panel)]
        fit = fit_policy(
            reaching,
            gold,
            target_agreement=target_agreement,
            delta=share,
            judges=panel,
            seed=seed + index,
            accept_labels=accept_labels,
            use_model=use_model,
            reports=reports,
        )
        policy = fit.policy
        accepted = [p for p in reaching if policy.accepts(p)]
        reports_out.append(_stage_report(panel, reaching, accepted, gold, fit))
        policies.append(policy)
        taken = {p.pair_id for p in accepted}
        remaining = [p for p in remaining if p.pair_id not in taken]
    cascade = CascadePolicy(policies, target_agreement, delta)
    return CascadeFit(cascade, reports_out, len(gold_pairs))


def _check_stages(
    signals: Sequence[PairSignals], gold: Mapping[str, str], stages: Sequence[Sequence[str]]
) -> list[PairSignals]:
    """The gold pairs, after raising ``ValueError`` on a cascade ``fit_cascade`` refuses."""
    if not stages or any(not s for s in stages):
        raise ValueError("a cascade needs at least one stage, each with at least one judge")
    seen: set[str] = set()
    for stage in stages:
        twice = seen.intersection(stage)
        if twice:
            raise ValueError(f"judge {sorted(twice)[0]!r} is in two stages of the cascade")
        seen.update(stage)
    gold_pairs = [p for p in signals if p.pair_id in gold]
    for stage in stages:
        missing = [p.pair_id for p in gold_pairs if not _asked(p, stage)]
        if missing:
            raise ValueError(
                f"stage {'+'.join(stage)} has no verdict for {len(missing)} gold item(s) "
                f"(e.g. {missing[0]!r}): every stage must judge every gold item (a verdict that "
                "could not be parsed counts)"
            )
    return gold_pairs


def _stage_report(
    panel: list[str],
    reaching: Sequence[PairSignals],
    accepted: Sequence[PairSignals],
    gold: Mapping[str, str],
    fit: PolicyFit,
) -> StageReport:
    """One stage's report: its certificate and its agreement on the gold items it accepted."""
    policy = fit.policy
    accepted_gold = [p for p in accepted if p.pair_id in gold]
    right = sum(1 for p in accepted_gold if policy.score(p).label == gold[p.pair_id])
    report = fit.report
    return StageReport(
        judges=panel,
        gold_reaching=sum(1 for p in reaching if p.pair_id in gold),
        certified=bool(report["certified"]),
        threshold=report["threshold"],
        score=str(report["score"]),
        accepted_gold=len(accepted_gold),
        agreement_on_accepted_gold=right / len(accepted_gold) if accepted_gold else None,
        why=str(report["why_this_score"])
        if report["certified"]
        else str(report["why_not_certified"]),
        more_gold_needed=report["more_gold_needed"],
    )

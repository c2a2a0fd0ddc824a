"""``referee prelabel --cascade``: each judge only on the pairs the cheaper stages left.

The dataset's newest policy must be a cascade from ``referee calibrate --cascade`` with the
same judges in the same order. Stage 1's judge labels every pair it has not judged yet; the
pairs its certified policy accepts are done; stage 2's judge gets only the rest, and so on.
Pairs a stage already judged (the gold pairs judged for calibration) are not judged again.
The report compares the cascade's judge spend with running the last (strongest) judge on
every pair, estimated from its mean cost per pair in this run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from calibration.cascade import CascadePolicy, is_cascade_body
from referee.db.counts import judged_pair_ids, pair_count, pair_ids
from referee.db.engine import transaction
from referee.db.routing import dataset_by_name, load_policy
from referee.db.signals import load_pair_signals
from referee.errors import UserError
from workers.jobs import validate_judges

if TYPE_CHECKING:
    from workers.summaries import JobSummary


@dataclass(frozen=True)
class StageRun:
    """What one stage did: its job (None when it had nothing to judge), pairs sent, spend."""

    judge: str
    job_id: int | None
    pairs: int
    cost: float
    status: str

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "judge": self.judge,
            "job_id": self.job_id,
            "pairs": self.pairs,
            "cost": self.cost,
            "status": self.status,
        }


def cascade_policy_for(engine: Engine, dataset: str, judges: Sequence[str]) -> CascadePolicy:
    """The dataset's newest policy, which must be a cascade over ``judges`` in that order."""
    with transaction(engine) as session:
        ds = dataset_by_name(session, dataset)
        loaded = load_policy(session, ds)
        body = loaded.body
    hint = (
        f"run `referee calibrate --dataset {dataset} --cascade "
        + " ".join(f"--judge {j}" for j in judges)
        + "` first"
    )
    if not is_cascade_body(body):
        raise UserError(
            f"the newest policy of {dataset!r} (v{loaded.version}) is not a cascade: {hint}"
        )
    policy = CascadePolicy.from_json(body)
    stages = [j for stage in policy.stage_judges() for j in stage]
    if stages != list(judges):
        raise UserError(
            f"the cascade policy v{loaded.version} of {dataset!r} has the stages "
            f"{' -> '.join(stages)}, not {' -> '.join(judges)}: give the same --judge options "
            f"in the same order, or {hint}"
        )
    return policy


def pairs_for_stage(
    engine: Engine, dataset: str, policy: CascadePolicy, stage: int, judge: str
) -> list[str]:
    """Pairs stage ``stage`` must judge: no earlier stage accepts them and ``judge`` has not
    judged them yet."""
    with transaction(engine) as session:
        ds = dataset_by_name(session, dataset)
        all_ids = pair_ids(session, ds.id)
        judged = judged_pair_ids(session, ds.id, judge)
        earlier = CascadePolicy(policy.stages[:stage], policy.target_agreement, policy.delta)
        accepted: set[str] = set()
        if stage > 0:
            signals = load_pair_signals(session, ds.id, judges=earlier.judges)
            accepted = {s.pair_id for s in signals if earlier.accepts(s)}
    return sorted(p for p in all_ids if p not in accepted and p not in judged)


def accepted_counts(engine: Engine, dataset: str, policy: CascadePolicy) -> list[int]:
    """Pairs each stage accepts (first accepting stage), from the verdicts now stored."""
    with transaction(engine) as session:
        ds = dataset_by_name(session, dataset)
        signals = load_pair_signals(session, ds.id, judges=policy.judges)
    counts = [0] * len(policy.stages)
    for pair in signals:
        stage = policy.accepting_stage(pair)
        if stage is not None:
            counts[stage] += 1
    return counts


def spend_report(runs: Sequence[StageRun], accepted: Sequence[int], total: int) -> dict[str, Any]:
    """Spend of the cascade against the last judge on all ``total`` pairs (its mean cost per
    pair in this run times ``total``; ``None`` when it judged nothing here)."""
    spend = sum(r.cost for r in runs)
    last = runs[-1]
    strongest_only = last.cost / last.pairs * total if last.pairs else None
    return {
        "pairs": total,
        "stages": [{**run.to_json(), "accepted": n} for run, n in zip(runs, accepted, strict=True)],
        "auto_accepted": sum(accepted),
        "cost": spend,
        "strongest_only_cost_estimate": strongest_only,
        "spend_ratio": spend / strongest_only if strongest_only else None,
    }


def judge_names(specs: Sequence[str]) -> list[str]:
    """The judge name each spec stores its verdicts under."""
    from judge.spec import parse_judge_spec

    return [parse_judge_spec(spec).name for spec in specs]


def run_cascade(
    engine: Engine,
    *,
    dataset: str,
    specs: Sequence[str],
    start: Callable[[str, list[str]], int],
    wait: Callable[[int], JobSummary],
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Run the stages in order. ``start(spec, only)`` creates and enqueues a one-judge job over
    the pair ids ``only`` and returns its id; ``wait(job_id)`` returns its final
    :class:`workers.summaries.JobSummary`; ``say(text)`` reports progress. Stops at the first
    stage whose job does not finish with a verdict for every pair (raising
    :class:`UserError` naming the job to resume). Returns :func:`spend_report`'s document."""
    validate_judges(specs)
    names = judge_names(specs)
    policy = cascade_policy_for(engine, dataset, names)
    runs: list[StageRun] = []
    for index, (spec, name) in enumerate(zip(specs, names, strict=True)):
        only = pairs_for_stage(engine, dataset, policy, index, name)
        if not only:
            say(f"stage {index + 1} ({name}): nothing left to judge")
            runs.append(StageRun(name, None, 0, 0.0, "done"))
            continue
        say(f"stage {index + 1} ({name}): judging {len(only)} pair(s)")
        job_id = start(spec, only)
        summary = wait(job_id)
        runs.append(StageRun(name, job_id, len(only), summary.cost, summary.status))
        if not summary.succeeded:
            raise UserError(
                f"stage {index + 1} ({name}) job {job_id} ended {summary.status}: finish it with "
                f"`referee prelabel --resume {job_id}`, then run the cascade again (stages "
                "skip the pairs they have judged)"
            )
    with transaction(engine) as session:
        total = pair_count(session, dataset_by_name(session, dataset).id)
    report = spend_report(runs, accepted_counts(engine, dataset, policy), total)
    report["dataset"] = dataset
    return report

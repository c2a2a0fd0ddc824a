"""Judging pairs: both orders of each pair, concurrently, through any provider; and panels.

``judge_pair`` asks a judge about a pair shown A-first and B-first at the same time, maps both
answers back to the pair's own frame and combines them; an order already judged with the same
prompt version is reused, never re-requested. ``judge_panel`` does the same for several judges.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from judge.conversation_prompt import conversation_prompt_version
from judge.errors import JudgeConfigError, JudgeError, PermanentJudgeError
from judge.injection import scan_responses
from judge.labels import ORDERS, Order
from judge.limits import DEFAULT_LIMITS, LimitsRegistry
from judge.mapping import to_original
from judge.prompts import prompt_version
from judge.provider import Provider
from judge.spec import JudgeSpec
from judge.types import OrderVerdict, PairText, PairVerdict


class Judge:
    """One judge: a spec, the provider that answers for it, and its prompt versions.

    ``prompt_version`` names the single-turn prompt; ``conversation_version`` the prompt of a
    pair whose prompt is a conversation (the same as ``prompt_version`` when not given, as for a
    replay judge, which renders nothing). :meth:`version_for` picks one per pair.
    """

    def __init__(
        self,
        spec: JudgeSpec,
        provider: Provider,
        prompt_version: str,
        conversation_version: str | None = None,
    ) -> None:
        self.spec = spec
        self.provider = provider
        self.name = spec.name
        self.prompt_version = prompt_version
        self.conversation_version = conversation_version or prompt_version

    def version_for(self, pair: PairText) -> str:
        """The prompt version of the verdicts this judge gives on ``pair``."""
        return self.conversation_version if pair.messages else self.prompt_version

    def __repr__(self) -> str:
        return f"Judge(name={self.name!r}, prompt_version={self.prompt_version!r})"

    async def judge_order(self, pair: PairText, order: Order) -> OrderVerdict:
        """Ask the provider about ``pair`` shown in ``order``; the verdict is in the A/B frame."""
        started = time.perf_counter()
        answer = await self.provider.answer(pair, order)
        latency_ms = (time.perf_counter() - started) * 1000.0
        injection = scan_responses(pair.response_a, pair.response_b, pair.messages).suspected
        ok = answer.winner is not None
        return OrderVerdict(
            order=order,
            winner=to_original(answer.winner, order) if answer.winner is not None else None,
            status="ok" if ok else "unparseable",
            prompt_version=self.version_for(pair),
            confidence=answer.confidence,
            logprob_confidence=answer.logprob_confidence,
            rationale=answer.rationale,
            raw=answer.raw,
            tokens_in=answer.tokens_in,
            tokens_out=answer.tokens_out,
            cost=answer.cost,
            latency_ms=latency_ms,
            error=None if ok else (answer.error or "unparseable verdict"),
            injection_suspected=injection or answer.injection_flagged,
            attempts=answer.attempts,
            turns_dropped=answer.turns_dropped,
        )


def build_judge(spec: JudgeSpec, limits: LimitsRegistry | None = None) -> Judge:
    """A ready judge for ``spec``; judges built on one ``limits`` registry share model limits.

    ``limits`` defaults to the process-wide :data:`judge.limits.DEFAULT_LIMITS`.
    Raises :class:`JudgeConfigError` for a replay file that is missing or malformed.
    """
    if spec.replay_path is not None:
        from judge.replay import ReplayPrices, ReplayProvider

        if spec.replay_judge is None:
            raise JudgeConfigError(f"replay judge {spec.name!r} names no recorded judge")
        priced = spec.input_cost_per_mtok is not None or spec.output_cost_per_mtok is not None
        prices = (
            ReplayPrices(spec.input_cost_per_mtok or 0.0, spec.output_cost_per_mtok or 0.0)
            if priced
            else None
        )
        replay = ReplayProvider(spec.replay_path, spec.replay_judge, prices)
        return Judge(spec, replay, replay.prompt_version)
    from judge.llm import LiteLLMProvider

    registry = limits if limits is not None else DEFAULT_LIMITS
    provider = LiteLLMProvider(spec, registry.limiter(spec.model, spec.api_base))
    return Judge(
        spec, provider, prompt_version(spec.rubric), conversation_prompt_version(spec.rubric)
    )


def combine(pair_id: str, judge: str, ab: OrderVerdict, ba: OrderVerdict) -> PairVerdict:
    """Both orders' verdicts into one: a label only when both parsed and agree."""
    consistent = ab.status == "ok" and ba.status == "ok" and ab.winner == ba.winner
    return PairVerdict(
        pair_id=pair_id,
        judge=judge,
        ab=ab,
        ba=ba,
        consistent=consistent,
        label=ab.winner if consistent else None,
        injection_suspected=ab.injection_suspected or ba.injection_suspected,
    )


def _most_serious(errors: Sequence[JudgeError]) -> JudgeError:
    for error in errors:
        if isinstance(error, PermanentJudgeError):
            return error
    return errors[0]


async def judge_pair(
    pair: PairText,
    judge: Judge,
    existing: Mapping[Order, OrderVerdict] | None = None,
) -> PairVerdict:
    """Both orders of ``pair`` by ``judge``, concurrently; reuse ``existing`` verdicts.

    An entry of ``existing`` is reused (marked ``reused=True``, no provider call) when its
    prompt version is the judge's for this pair (:meth:`Judge.version_for`);
    pass only the verdicts you want kept. On failure the typed
    :mod:`judge.errors` exception is raised with ``partial`` holding the orders that completed,
    keyed by ``(judge.name, order)``, so they can be stored and never paid for twice.
    """
    done: dict[Order, OrderVerdict] = {}
    version = judge.version_for(pair)
    for order, verdict in (existing or {}).items():
        if verdict.prompt_version == version and verdict.order == order:
            done[order] = replace(verdict, reused=True)
    todo = [order for order in ORDERS if order not in done]
    results = await asyncio.gather(
        *(judge.judge_order(pair, order) for order in todo), return_exceptions=True
    )
    errors: list[JudgeError] = []
    for order, result in zip(todo, results, strict=True):
        if isinstance(result, OrderVerdict):
            done[order] = result
        elif isinstance(result, JudgeError):
            errors.append(result)
        else:
            raise result
    if errors:
        error = _most_serious(errors)
        fresh = {(judge.name, o): v for o, v in done.items() if not v.reused}
        error.partial.update(fresh)
        raise error
    return combine(pair.pair_id, judge.name, done["AB"], done["BA"])


async def judge_panel(
    pair: PairText,
    judges: Sequence[Judge],
    existing: Mapping[tuple[str, Order], OrderVerdict] | None = None,
) -> list[PairVerdict]:
    """Every judge of a panel on ``pair`` (both orders each), concurrently, in ``judges`` order.

    ``existing`` is keyed by ``(judge name, order)``. On failure the most serious error is
    raised with ``partial`` holding every fresh order verdict of the whole panel.
    """
    names = [judge.name for judge in judges]
    if len(set(names)) != len(names):
        raise JudgeConfigError(f"a panel needs distinct judge names, got {names}")
    known = existing or {}
    results = await asyncio.gather(
        *(
            judge_pair(pair, judge, {o: v for (n, o), v in known.items() if n == judge.name})
            for judge in judges
        ),
        return_exceptions=True,
    )
    errors: list[JudgeError] = []
    verdicts: list[PairVerdict] = []
    for result in results:
        if isinstance(result, PairVerdict):
            verdicts.append(result)
        elif isinstance(result, JudgeError):
            errors.append(result)
        else:
            raise result
    if errors:
        error = _most_serious(errors)
        for other in errors:
            error.partial.update(other.partial)
        for verdict in verdicts:
            for v in verdict.verdicts():
                if not v.reused:
                    error.partial[(verdict.judge, v.order)] = v
        raise error
    return verdicts


__all__ = ["Judge", "build_judge", "combine", "judge_pair", "judge_panel"]

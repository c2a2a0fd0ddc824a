"""The judge: both-order pairwise LLM verdicts through litellm + instructor, or a recording.

Entry points: :func:`parse_judge_spec` -> :func:`build_judge` -> :func:`judge_pair` /
:func:`judge_panel`. Everything here is importable without importing litellm; the live provider
(:mod:`judge.llm`) is imported when a live judge is built. The names below are loaded on first
use (PEP 562), so ``import judge.errors`` does not compile the injection patterns.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from judge.errors import (
        JudgeConfigError,
        JudgeError,
        PermanentJudgeError,
        PermanentProviderError,
        ReplayMissError,
        TransientProviderError,
    )
    from judge.limits import DEFAULT_LIMITS, LimitsRegistry, ModelLimits
    from judge.pipeline import Judge, build_judge, combine, judge_pair, judge_panel
    from judge.retry import RetryBudget, RetryPolicy
    from judge.rubric import DEFAULT_RUBRIC, Rubric, load_rubric
    from judge.spec import RECORDED_PROMPT_VERSION, JudgeSpec, parse_judge_spec
    from judge.types import OrderVerdict, PairText, PairVerdict

# public name -> the module that defines it
_HOME: dict[str, str] = {
    "JudgeConfigError": "errors",
    "JudgeError": "errors",
    "PermanentJudgeError": "errors",
    "PermanentProviderError": "errors",
    "ReplayMissError": "errors",
    "TransientProviderError": "errors",
    "DEFAULT_LIMITS": "limits",
    "LimitsRegistry": "limits",
    "ModelLimits": "limits",
    "Judge": "pipeline",
    "build_judge": "pipeline",
    "combine": "pipeline",
    "judge_pair": "pipeline",
    "judge_panel": "pipeline",
    "RetryBudget": "retry",
    "DEFAULT_RUBRIC": "rubric",
    "Rubric": "rubric",
    "load_rubric": "rubric",
    "RECORDED_PROMPT_VERSION": "spec",
    "JudgeSpec": "spec",
    "RetryPolicy": "retry",
    "parse_judge_spec": "spec",
    "OrderVerdict": "types",
    "PairText": "types",
    "PairVerdict": "types",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'judge' has no attribute {name!r}")
    return getattr(importlib.import_module(f"judge.{home}"), name)


__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_RUBRIC",
    "RECORDED_PROMPT_VERSION",
    "Judge",
    "JudgeConfigError",
    "JudgeError",
    "JudgeSpec",
    "LimitsRegistry",
    "ModelLimits",
    "OrderVerdict",
    "PairText",
    "PairVerdict",
    "PermanentJudgeError",
    "PermanentProviderError",
    "ReplayMissError",
    "RetryBudget",
    "RetryPolicy",
    "Rubric",
    "TransientProviderError",
    "build_judge",
    "combine",
    "judge_pair",
    "judge_panel",
    "load_rubric",
    "parse_judge_spec",
]

"""The judge: both-order pairwise LLM verdicts through litellm + instructor, or a recording.

Entry points: :func:`parse_judge_spec` -> :func:`build_judge` -> :func:`judge_pair` /
:func:`judge_panel`. Everything here is importable without importing litellm; the live provider
(:mod:`judge.llm`) is imported when a live judge is built.
"""

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
from judge.rubric import DEFAULT_RUBRIC, Rubric, load_rubric
from judge.spec import RECORDED_PROMPT_VERSION, JudgeSpec, RetryPolicy, parse_judge_spec
from judge.types import OrderVerdict, PairText, PairVerdict

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

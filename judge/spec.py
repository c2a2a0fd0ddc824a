"""Judge specs: which model (or recording) judges, with which rubric, limits and retries.

Spec strings::

    openai/gpt-4o-mini                       any litellm model string
    ollama/llama3?name=llama-strict&rubric=strict.txt&mode=tools
    replay:../shared/data/llmbar/judgments.jsonl#gpt-4/vanilla
    replay:judgments.jsonl#chatgpt/vanilla?input_cost_per_mtok=0.5&output_cost_per_mtok=1.5

Options after ``?`` (``&``-separated ``key=value``): ``name``, ``rubric`` (path of a rubric file),
``mode`` (``json`` or ``tools``), ``logprobs`` (``true``/``false``), ``temperature``,
``max_tokens``, ``context_tokens`` (the model's context window the judge request must fit: a long
conversation drops its oldest turns to fit, :mod:`judge.conversation_prompt`; default 16384),
``input_cost_per_mtok``, ``output_cost_per_mtok`` (dollars per million tokens,
overriding litellm's price map), ``transport`` (``auto``: OpenAI-compatible models over the
direct route of :mod:`judge.openai_http`, others through ``litellm.acompletion``; ``litellm``:
every call through ``litellm.acompletion``). A ``replay:`` judge takes ``name`` and the two
prices only; priced, its recorded calls cost what the model would have charged (token counts
estimated from the text where the recording has none, :func:`judge.replay.estimate_tokens`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from judge.errors import JudgeConfigError
from judge.replay import RECORDED_PROMPT_VERSION, recorded_judges
from judge.retry import DEFAULT_BUDGET, RetryBudget, RetryPolicy
from judge.rubric import DEFAULT_RUBRIC, Rubric, load_rubric

StructuredMode = Literal["json", "tools"]
Transport = Literal["auto", "litellm"]
REPLAY_PREFIX = "replay:"
DEFAULT_CONTEXT_TOKENS = 16384


@dataclass(frozen=True)
class JudgeSpec:
    """Everything needed to build one judge. ``name`` is the judge id stored with verdicts."""

    name: str
    model: str
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    rubric: Rubric = DEFAULT_RUBRIC
    mode: StructuredMode = "json"
    logprobs: bool = True
    temperature: float = 0.0
    max_tokens: int = 512
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    timeout_s: float = 60.0
    retry: RetryPolicy = DEFAULT_BUDGET.http
    max_reasks: int = DEFAULT_BUDGET.max_reasks
    input_cost_per_mtok: float | None = None
    output_cost_per_mtok: float | None = None
    replay_path: str | None = None
    replay_judge: str | None = None
    transport: Transport = "auto"

    @property
    def is_replay(self) -> bool:
        """True for a ``replay:`` judge, which answers from recorded verdicts."""
        return self.replay_path is not None

    @property
    def max_retries(self) -> int:
        """Retries of transient failures per HTTP call."""
        return self.retry.max_retries


_BOOL = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _options(text: str, query: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for item in filter(None, query.split("&")):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise JudgeConfigError(f"judge spec {text!r}: option {item!r} is not key=value")
        options[key.strip()] = value.strip()
    return options


def _number(text: str, key: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise JudgeConfigError(
            f"judge spec {text!r}: {key} must be a number, not {value!r}"
        ) from None


def parse_judge_spec(
    text: str,
    *,
    api_base: str | None = None,
    api_key: str | None = None,
    rubric: Rubric | str | Path | None = None,
    name: str | None = None,
    timeout_s: float = 60.0,
    retry: RetryBudget = DEFAULT_BUDGET,
    max_retries: int | None = None,
    max_reasks: int | None = None,
    backoff_base_s: float | None = None,
    backoff_max_s: float | None = None,
    max_retry_after_s: float | None = None,
    input_cost_per_mtok: float | None = None,
    output_cost_per_mtok: float | None = None,
    mode: StructuredMode = "json",
    logprobs: bool = True,
) -> JudgeSpec:
    """Parse a judge spec string; keyword arguments are defaults that ``?options`` override.

    A ``replay:PATH[#JUDGE]`` spec is resolved against the file now: its name is the recorded
    judge name, and a file with several judges and none named is an error listing them.
    ``retry`` is the job's :class:`judge.retry.RetryBudget`; the judge takes its HTTP retries and
    re-asks from it (``max_retries``, ``max_reasks`` and the backoff arguments, when given,
    replace the budget's own). Raises :class:`JudgeConfigError` with a message saying what to fix.
    """
    raw = text.strip()
    if not raw:
        raise JudgeConfigError("empty judge spec; give a litellm model such as openai/gpt-4o-mini")
    policy = _retry_policy(retry, max_retries, backoff_base_s, backoff_max_s, max_retry_after_s)
    reasks = retry.max_reasks if max_reasks is None else max_reasks
    if timeout_s <= 0 or policy.max_retries < 0 or reasks < 0:
        raise JudgeConfigError("timeout_s must be > 0, max_retries and max_reasks >= 0")
    if raw.startswith(REPLAY_PREFIX):
        return _parse_replay(raw, name=name, retry=policy)

    model, opts = _model_and_options(text, raw)
    chosen_rubric = _chosen_rubric(opts.get("rubric", rubric))
    chosen_mode = _choice(text, opts, "mode", mode, ("json", "tools"))
    transport = _choice(text, opts, "transport", "auto", ("auto", "litellm"))
    default_name = model if chosen_rubric is DEFAULT_RUBRIC else f"{model}+{chosen_rubric.name}"
    return JudgeSpec(
        name=opts.get("name") or name or default_name,
        model=model,
        api_base=api_base,
        api_key=api_key,
        rubric=chosen_rubric,
        mode=chosen_mode,  # type: ignore[arg-type]
        logprobs=_flag(text, opts, "logprobs", logprobs),
        temperature=_number(text, "temperature", opts.get("temperature", "0")),
        max_tokens=int(_number(text, "max_tokens", opts.get("max_tokens", "512"))),
        context_tokens=_context_tokens(text, opts),
        timeout_s=timeout_s,
        retry=policy,
        max_reasks=reasks,
        input_cost_per_mtok=_price(text, opts, "input_cost_per_mtok", input_cost_per_mtok),
        output_cost_per_mtok=_price(text, opts, "output_cost_per_mtok", output_cost_per_mtok),
        transport=transport,  # type: ignore[arg-type]
    )


def _context_tokens(text: str, opts: dict[str, str]) -> int:
    value = int(
        _number(text, "context_tokens", opts.get("context_tokens", str(DEFAULT_CONTEXT_TOKENS)))
    )
    if value <= 0:
        raise JudgeConfigError(f"judge spec {text!r}: context_tokens must be a positive integer")
    return value


def _retry_policy(
    retry: RetryBudget,
    max_retries: int | None,
    base_s: float | None,
    max_s: float | None,
    retry_after_s: float | None,
) -> RetryPolicy:
    """The budget's HTTP retry policy with the values given in place of its own."""
    http = retry.http
    return RetryPolicy(
        http.max_retries if max_retries is None else max_retries,
        http.base_delay_s if base_s is None else base_s,
        http.max_delay_s if max_s is None else max_s,
        http.max_retry_after_s if retry_after_s is None else retry_after_s,
    )


_SPEC_OPTIONS = {
    "name",
    "rubric",
    "mode",
    "logprobs",
    "temperature",
    "max_tokens",
    "context_tokens",
    "input_cost_per_mtok",
    "output_cost_per_mtok",
    "transport",
}


def _model_and_options(text: str, raw: str) -> tuple[str, dict[str, str]]:
    """The model string of a spec and its ``?options`` (every one known)."""
    model, _, query = raw.partition("?")
    model = model.strip()
    if not model or any(ch.isspace() for ch in model):
        raise JudgeConfigError(f"judge spec {text!r}: model must be a litellm model string")
    opts = _options(text, query)
    unknown = set(opts) - _SPEC_OPTIONS
    if unknown:
        names = ", ".join(sorted(unknown))
        raise JudgeConfigError(f"judge spec {text!r}: unknown option(s) {names}")
    return model, opts


def _chosen_rubric(source: Rubric | str | Path | None) -> Rubric:
    if isinstance(source, Rubric):
        return source
    return load_rubric(source) if source else DEFAULT_RUBRIC


def _choice(
    text: str, opts: dict[str, str], key: str, default: str, allowed: tuple[str, str]
) -> str:
    value = opts.get(key, default)
    if value not in allowed:
        raise JudgeConfigError(f"judge spec {text!r}: {key} must be {allowed[0]} or {allowed[1]}")
    return value


def _flag(text: str, opts: dict[str, str], key: str, default: bool) -> bool:
    if key not in opts:
        return default
    if opts[key].lower() not in _BOOL:
        raise JudgeConfigError(f"judge spec {text!r}: {key} must be true or false")
    return _BOOL[opts[key].lower()]


def _price(text: str, opts: dict[str, str], key: str, default: float | None) -> float | None:
    return _number(text, key, opts[key]) if key in opts else default


def _parse_replay(raw: str, *, name: str | None, retry: RetryPolicy) -> JudgeSpec:
    body, _, query = raw[len(REPLAY_PREFIX) :].partition("?")
    path, _, judge = body.partition("#")
    path = path.strip()
    judge = judge.strip()
    opts = _options(raw, query)
    unknown = set(opts) - {"name", "input_cost_per_mtok", "output_cost_per_mtok"}
    if unknown:
        raise JudgeConfigError(
            f"judge spec {raw!r}: unknown option(s) {', '.join(sorted(unknown))} "
            "(a replay judge takes name, input_cost_per_mtok and output_cost_per_mtok)"
        )
    prices = {
        key: _number(raw, key, opts[key])
        for key in ("input_cost_per_mtok", "output_cost_per_mtok")
        if key in opts
    }
    if not path:
        raise JudgeConfigError(f"judge spec {raw!r}: give the judgments file, replay:PATH[#JUDGE]")
    judges = recorded_judges(path)
    if judge:
        if judge not in judges:
            raise JudgeConfigError(
                f"{path}: no recorded judge {judge!r}; it has: {', '.join(sorted(judges))}"
            )
    elif len(judges) == 1:
        judge = next(iter(judges))
    else:
        raise JudgeConfigError(
            f"{path} has {len(judges)} judges; name one as replay:{path}#JUDGE, one of: "
            + ", ".join(sorted(judges))
        )
    return JudgeSpec(
        name=opts.get("name") or name or judge,
        model=raw,
        input_cost_per_mtok=prices.get("input_cost_per_mtok"),
        output_cost_per_mtok=prices.get("output_cost_per_mtok"),
        rubric=Rubric(name=RECORDED_PROMPT_VERSION, text=""),
        logprobs=False,
        retry=retry,
        max_reasks=0,
        replay_path=path,
        replay_judge=judge,
    )


def with_overrides(spec: JudgeSpec, **changes: object) -> JudgeSpec:
    """A copy of ``spec`` with some fields changed (e.g. ``api_base`` from settings)."""
    return replace(spec, **changes)  # type: ignore[arg-type]


__all__ = [
    "DEFAULT_CONTEXT_TOKENS",
    "RECORDED_PROMPT_VERSION",
    "REPLAY_PREFIX",
    "JudgeSpec",
    "RetryPolicy",
    "StructuredMode",
    "parse_judge_spec",
    "with_overrides",
]

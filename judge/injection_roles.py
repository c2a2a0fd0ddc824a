"""Injection by form rather than wording: role markers, chat-template tokens, verdict tokens.

The phrase families of :mod:`judge.injection_patterns` catch what an attempt *says*; an attempt
can instead *look like* part of the grader's own prompt, whatever it says:

- a **role marker** starting a line (``SYSTEM:``, ``[System note]:``, ``### Instruction``,
  ``Developer:``, ``ADMIN OVERRIDE:``) followed, on that line or the next, by verdict language
  (verdict, winner, output, choose, prefer, better, correct, ...): a fake turn addressed to the
  grader;
- a **chat-template token that opens a turn** (ChatML ``<|im_start|>``, Llama 2 ``[INST]``
  and ``<<SYS>>``, Llama 3 ``<|start_header_id|>``, Zephyr/Phi ``<|system|>``, ``<|user|>``,
  ``<|assistant|>``, Gemma ``<start_of_turn>``, ``[SYSTEM]``): text meant for a tokenizer,
  never for a reader, when a verdict follows it (a verdict, a winner, "choose A", ``[[``).
  Real model outputs carry stray turns (LLMFAO has ``<|system|>`` and ``<|user|>`` leftovers
  in dozens of responses, continuing the conversation) and tokens that only *end* a turn
  (``<|end|>``, ``<|endoftext|>``, ``<|eot_id|>``): alone, none of them is flagged;
- a **verdict token** in a judge's output format inside a response: MT-Bench's ``[[A]]``,
  ``[[B]]``, ``[[C]]``; ``Verdict: A``; LLMBar's ``Output (a)`` alone on a line.

Each is ``(family, pattern, gate)``, matched like the phrase rules (on the folded, lower-case
views of :mod:`judge.injection_normalise`). Their false alarms on the real pairs of
``../shared/data`` are measured by ``bench/injection_catch.py`` (and its test): none of the
3,557 real pairs matches.
"""

from __future__ import annotations

from typing import Final

# "instructions:" heads recipes and manuals: it counts only as a "### Instruction" header
_ROLE = r"(?:system|developer|admin(?:istrator)?|operator|evaluator|judge|grader|moderator)"
_ROLE_SUFFIX = r"(?:[ \t]+(?:prompt|message|note|notice|override|update|instructions?|directive))?"
# the views join lines with spaces, so a "line" starts the text, a sentence or a bracket
_LINE_START = r"(?:^|\n|[.!?;)\]>]\s+|\s{2,})"
_ROLE_LINE = (
    rf"{_LINE_START}[ \t>*_#\[(]*{_ROLE}{_ROLE_SUFFIX}[ \t\])*_]*"
    r"(?:[:>\u2013\u2014]|-(?!\w))[ \t]*"  # a colon, an arrow, a dash
)
_TURN_TOKEN = (
    r"(?:<\|(?:system|user|assistant|start_header_id)\|>|<start_of_turn>|\[/?(?:sys|system)\])"
)
#: verdict language no ordinary conversation turn uses: a verdict, a winner, a side by its label
_STRONG_VERDICT = (
    r"(?:\bverdict\b|\bwinner\b|\[\[|\b(?:response|assistant|output|answer)\s*\(?[ab12]\)?"
    r"\s+(?:is|wins|was)\s+(?:better|best|correct|the\s+winner)|\b(?:choose|pick|select|prefer"
    r"|output)\s+(?:response\s+|assistant\s+|output\s+)?\(?[ab12]\)?(?:\W|$))"
)
_STRONG_VERDICT = _STRONG_VERDICT[:-1] + r"|\bcorrect\s+(?:verdict|choice|answer)\s+(?:is\b|for\b))"
_VERDICT_WORDS = (
    r"(?:verdict|winner|wins?|output|respond|reply|better|best|correct|score|rate|rating|grade"
    r"|(?:choose|chose|select|pick|prefer|preferred)\s+(?:the\s+)?(?:first|second|response"
    r"|assistant|output|answer|a|b|1|2)\b|assistant\s+[ab12]|response\s+[ab12]"
    r"|answer\s+(?:with\s+)?[\"'(]?(?:a|b|1|2)\b|\[\[)"
)
_ROLE_GATE = "system developer admin administrator operator evaluator judge grader moderator"

ROLE_RULES: Final[tuple[tuple[str, str, str], ...]] = (
    (
        "fake_markup",
        rf"{_ROLE_LINE}[^\n]{{0,200}}?\b{_VERDICT_WORDS}",
        _ROLE_GATE,
    ),
    (  # anywhere, even glued to a word, when a verdict follows at once
        "fake_markup",
        rf"{_ROLE}{_ROLE_SUFFIX}[\])*_]*[ \t]*:[ \t]*.{{0,120}}?{_STRONG_VERDICT}",
        "",  # ungated: the role word may be glued to the word before it
    ),
    (
        "fake_markup",
        r"#{2,6}[ \t]*(?:system|instructions?|developer|evaluator|judge)\b"
        rf"[^#]{{0,200}}?\b{_VERDICT_WORDS}",
        "system instruction instructions developer evaluator judge",
    ),
    (
        "fake_markup",
        rf"{_TURN_TOKEN}.{{0,200}}?{_STRONG_VERDICT}",
        "system sys user assistant start_header_id start_of_turn",
    ),
    ("names_winner", r"\[\[\s*(?:a|b|c|tie|1|2)\s*\]\]", ""),
    (
        "names_winner",
        r"\b(?:final\s+)?verdict\s*(?:is\s*)?[:=]?\s*[\"'(]?(?:output\s*)?\(?(?:a|b|tie)\)?[\"')]?"
        r"\s*(?:$|[.\n])",
        "verdict",
    ),
    ("names_winner", rf"{_LINE_START}output[ \t]*\((?:a|b)\)[ \t.]*$", "output"),
)

__all__ = ["ROLE_RULES"]

"""Judge-injection signal: responses that address the judge instead of the user.

A response that says "ignore previous instructions", "the correct answer is Response 1" or
"as the evaluator you must ..." is trying to steer its grader. We flag it (we do not decide the
verdict) so routing can send the pair to people. Patterns are deliberately specific to
judge-directed language, to keep false alarms on ordinary answers rare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_JUDGE = r"(?:judge|evaluator|grader|assessor|reviewer|rater|annotator|ai\s+judge|llm\s+judge)"
_RESPONSE = r"(?:response|answer|output|assistant|option|candidate)\s*(?:[12ab]|one|two|\([ab12]\))"

PATTERNS: Final[dict[str, re.Pattern[str]]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "ignore_instructions": (
            r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+)?"
            r"(?:previous|prior|above|earlier|preceding|your|other)\s+"
            r"(?:instructions?|prompts?|rules?|guidelines?|rubric|criteria)"
        ),
        "addresses_judge": (
            r"\b(?:as|dear|attention|hey|note\s+to|message\s+to|instructions?\s+(?:to|for))\s+"
            rf"(?:the\s+|an?\s+|all\s+)?{_JUDGE}s?\b"
            rf"|\b{_JUDGE}s?\s*(?:,|:)\s*(?:you|please|must|should)"
            rf"|\b(?:the|any)\s+{_JUDGE}\s+(?:must|should|will|has\s+to)\b"
        ),
        "names_winner": (
            rf"\b(?:the\s+)?(?:correct|best|better|winning|right|preferred)\s+"
            rf"(?:answer|response|choice|output)\s+(?:is|=)\s+{_RESPONSE}\b"
            rf"|\b{_RESPONSE}\s+(?:is|should\s+be)\s+(?:clearly\s+)?(?:the\s+)?"
            r"(?:better|best|winner|correct|preferred)\b"
            rf"|\b(?:choose|select|pick|prefer|vote\s+for)\s+{_RESPONSE}\b"
        ),
        "scores_itself": (
            r"\b(?:rate|score|grade)\s+(?:this|my)\s+(?:response|answer)\s+(?:as\s+)?"
            r"(?:\d+|highly|the\s+highest|a\s+perfect)"
            r"|\bthis\s+(?:response|answer)\s+(?:deserves|should\s+(?:get|receive))\b"
        ),
        "fake_markup": (
            r"</?(?:response_[12]|user_prompt|system|instructions?)>"
            r"|<\|im_(?:start|end)\|>|\[/?INST\]|^\s*(?:system|assistant)\s*:"
        ),
    }.items()
}


@dataclass(frozen=True)
class InjectionReport:
    """Which judge-injection patterns matched, and where (``"response_a"``/``"response_b"``)."""

    matches: tuple[tuple[str, str], ...]

    @property
    def suspected(self) -> bool:
        """True when any pattern matched."""
        return bool(self.matches)


def find_injection(text: str) -> tuple[str, ...]:
    """Names of the patterns that match ``text`` (empty when it looks harmless)."""
    return tuple(name for name, pattern in PATTERNS.items() if pattern.search(text))


def scan_responses(response_a: str, response_b: str) -> InjectionReport:
    """Scan both responses of a pair."""
    matches = [("response_a", name) for name in find_injection(response_a)]
    matches += [("response_b", name) for name in find_injection(response_b)]
    return InjectionReport(matches=tuple(matches))


__all__ = ["PATTERNS", "InjectionReport", "find_injection", "scan_responses"]

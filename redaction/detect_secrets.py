"""Secrets: provider API keys, JWTs, PEM private keys, and high-entropy values in assignments."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator

from redaction.checksums import shannon_entropy
from redaction.spans import Span

__all__ = ["AssignedSecretDetector", "JwtDetector", "PrivateKeyDetector", "ProviderKeyDetector"]

_B = r"(?<![A-Za-z0-9_\-])"  # start boundary: not inside another token
_E = r"(?![A-Za-z0-9_\-])"  # end boundary

# (detector name, literal prefix, pattern from that prefix on). Shapes from the providers'
# documentation and secret-scanning rules. Each prefix is found with ``str.find`` and the
# pattern matched there, which is far cheaper than scanning the text with one alternation.
_PROVIDER_KEYS: tuple[tuple[str, str, str], ...] = (
    ("anthropic_key", "sk-ant-", r"sk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_\-]{20,}"),
    ("openai_key", "sk-", r"sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,}"),
    ("openai_key", "sk-", r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}"),
    ("openai_key", "sk-", r"sk-(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{32,}"),
    ("aws_access_key", "AKIA", r"AKIA[A-Z0-9]{16}"),
    ("aws_access_key", "ASIA", r"ASIA[A-Z0-9]{16}"),
    ("aws_access_key", "AROA", r"AROA[A-Z0-9]{16}"),
    ("aws_access_key", "AIDA", r"AIDA[A-Z0-9]{16}"),
    ("github_token", "ghp_", r"ghp_[A-Za-z0-9]{36,255}"),
    ("github_token", "gho_", r"gho_[A-Za-z0-9]{36,255}"),
    ("github_token", "ghu_", r"ghu_[A-Za-z0-9]{36,255}"),
    ("github_token", "ghs_", r"ghs_[A-Za-z0-9]{36,255}"),
    ("github_token", "ghr_", r"ghr_[A-Za-z0-9]{36,255}"),
    ("github_token", "github_pat_", r"github_pat_[A-Za-z0-9_]{22,255}"),
    ("gitlab_token", "glpat-", r"glpat-[A-Za-z0-9_\-]{20,}"),
    ("slack_token", "xox", r"xox[abposre]-(?:\d+-)?[A-Za-z0-9\-]{10,}"),
    (
        "slack_webhook",
        "hooks.slack.com/services/",
        r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+",
    ),
    ("google_api_key", "AIza", r"AIza[0-9A-Za-z_\-]{35}"),
    ("stripe_key", "sk_live_", r"sk_live_[0-9A-Za-z]{16,}"),
    ("stripe_key", "sk_test_", r"sk_test_[0-9A-Za-z]{16,}"),
    ("stripe_key", "rk_live_", r"rk_live_[0-9A-Za-z]{16,}"),
    ("stripe_webhook_secret", "whsec_", r"whsec_[0-9A-Za-z]{24,}"),
    ("huggingface_token", "hf_", r"hf_[A-Za-z]{34}"),
    ("sendgrid_key", "SG.", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
    ("twilio_key", "SK", r"SK[0-9a-f]{32}"),
    ("npm_token", "npm_", r"npm_[A-Za-z0-9]{36}"),
)
_PROVIDER: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _name, _prefix, _pattern in _PROVIDER_KEYS:
    _PROVIDER.setdefault(_prefix, []).append((_name, re.compile(f"{_B}{_pattern}{_E}")))


class ProviderKeyDetector:
    """API keys in the shapes providers issue (OpenAI, Anthropic, AWS, GitHub, Slack, ...)."""

    name = "provider_key"
    kind = "SECRET"
    priority = 80

    def find(self, text: str) -> Iterator[Span]:
        for prefix, patterns in _PROVIDER.items():
            at = text.find(prefix)
            while at != -1:
                for detector, pattern in patterns:
                    m = pattern.match(text, at)
                    if m is not None:
                        yield Span(
                            m.start(), m.end(), self.kind, m.group(0), detector, self.priority
                        )
                        break
                at = text.find(prefix, at + 1)


_JWT = re.compile(rf"{_B}eyJ[A-Za-z0-9_\-]{{8,}}\.[A-Za-z0-9_\-]{{2,}}\.[A-Za-z0-9_\-]*{_E}")


def _b64url_json(part: str) -> object:
    padded = part + "=" * (-len(part) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):
        return None


class JwtDetector:
    """JSON Web Tokens: three base64url parts whose header decodes to JSON naming an ``alg``."""

    name = "jwt"
    kind = "SECRET"
    priority = 80

    def find(self, text: str) -> Iterator[Span]:
        if "eyJ" not in text:
            return
        for m in _JWT.finditer(text):
            header = _b64url_json(m.group(0).split(".", 1)[0])
            if isinstance(header, dict) and "alg" in header:
                yield Span(m.start(), m.end(), self.kind, m.group(0), self.name, self.priority)


_PEM = re.compile(
    r"-----BEGIN (?P<label>(?:[A-Z0-9]+ ){0,3})PRIVATE KEY(?: BLOCK)?-----"
    r"(?:[\s\S]*?-----END (?P=label)PRIVATE KEY(?: BLOCK)?-----"
    r"|[A-Za-z0-9+/=\s:\-,]*)"  # a block cut short: every base64 line that follows
)


class PrivateKeyDetector:
    """PEM private-key blocks (RSA, EC, OpenSSH, PGP, encrypted), whole, or cut short."""

    name = "private_key"
    kind = "SECRET"
    priority = 90

    def find(self, text: str) -> Iterator[Span]:
        if "PRIVATE KEY" not in text:
            return
        for m in _PEM.finditer(text):
            value = m.group(0).rstrip()
            yield Span(
                m.start(), m.start() + len(value), self.kind, value, self.name, self.priority
            )


_SECRET_NAME = (
    r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|"
    r"private[_\-]?key|client[_\-]?secret|auth(?:orization)?|credentials?|bearer|"
    r"session[_\-]?key|signing[_\-]?key|encryption[_\-]?key|master[_\-]?key|db[_\-]?pass)"
)
_SECRET_WORDS = ("pass", "pwd", "secret", "token", "key", "auth", "credential", "bearer")
_SECRET_NAME_RE = re.compile(rf"(?i){_SECRET_NAME}")
_IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
# Matched at the start of an identifier that contains a secret word.
_ASSIGNMENT = re.compile(
    r"(?P<name>[A-Za-z0-9_.\-]+)[\"'`]?\]?"
    r"[ \t]*(?::=|=>|=|:|\bis\b)[ \t]*"
    r"(?:(?P<q>[\"'`])(?P<quoted>[^\"'`\s]{6,200})(?P=q)"
    r"|(?P<bare>[^\s\"'`,;()\[\]{}<>]{6,200})(?=[\s\"'`,;)\]}]|$))"
)
# A whole line ``NAME=value`` / ``name: value`` (``.env``, YAML, INI): the value runs to the
# end of the line (or a `` #`` comment) and may hold any symbol.
_LINE_ASSIGNMENT = re.compile(
    r"(?P<name>[A-Za-z0-9_.\-]+)[ \t]*(?:=|:)[ \t]*(?P<value>[^\s\"'`]{6,200})[ \t]*(?:[ \t]#.*)?$",
    re.MULTILINE,
)
_LINE_START = re.compile(r"(?:^|\n)[ \t]*(?:export[ \t]+|-[ \t]+)?$")
_BEARER = re.compile(
    r"(?i)\bbearer[ \t]+(?P<value>[A-Za-z0-9._~+/\-]{16,}=*)(?![A-Za-z0-9._~+/\-=])"
)
_PLACEHOLDER = re.compile(
    r"(?i)your|example|sample|dummy|placeholder|changeme|change_me|redacted|secret_?here|"
    r"xxx|\*\*\*|\.\.\.|^(?:none|null|true|false|undefined|required|optional|string|"
    r"password|token|secret|str|int|bool|env|config|settings|self|os|process|getenv)$|"
    r"^(?:os|env|process|config|settings|self|args|params|request|req|opts|options|kwargs)\.|"
    r"^\$\{.*\}$|^\{\{.*\}\}$|^<.*>$|^%\(.*\)s$|^\$[A-Za-z_][A-Za-z0-9_]*$|^%[A-Z_]+%$"
)
# Code, not a literal: a call or a subscript (``nltk.word_tokenize(text)``, ``env["KEY"]``).
_CODE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*[(\[]")
_HAS_DIGIT = re.compile(r"\d")
_HAS_LOWER = re.compile(r"[a-z]")
_HAS_UPPER = re.compile(r"[A-Z]")
_HAS_SYMBOL = re.compile(r"[^A-Za-z0-9]")
_IDENTIFIER_LIKE = re.compile(r"^[A-Za-z0-9_.\-/:]+$")


def _find_all(text: str, word: str) -> Iterator[int]:
    at = text.find(word)
    while at != -1:
        yield at
        at = text.find(word, at + len(word))


class AssignedSecretDetector:
    """Secret-looking values assigned to secret-looking names, and bearer tokens.

    ``password = "hunter2!x"``, ``"api_key": "9f8e..."``, ``AWS_SECRET_ACCESS_KEY=...``,
    ``Authorization: Bearer ...``. Only the value is replaced. The value must not be a
    placeholder (``your_api_key``, ``${TOKEN}``, ``os.environ[...]``) and must look random:
    quoted values need 8+ characters from at least two character classes and an entropy of
    2.5 bits per character or more; unquoted values made of name characters (in code mostly
    variable names) need 16+ characters, digits, and 3.5 bits per character; other unquoted
    values (``.env``, YAML) need 8+ characters from three classes.
    """

    name = "assigned_secret"
    kind = "SECRET"
    priority = 70

    def find(self, text: str) -> Iterator[Span]:
        lowered = text.lower()
        hits = sorted(at for word in _SECRET_WORDS for at in _find_all(lowered, word))
        starts: list[int] = []
        ident_end = -1
        for at in hits:
            if at < ident_end:
                continue  # in the identifier already taken: one start per identifier
            start = at
            while start > 0 and text[start - 1] in _IDENT_CHARS and start > ident_end:
                start -= 1
            ident_end = at
            while ident_end < len(text) and text[ident_end] in _IDENT_CHARS:
                ident_end += 1
            starts.append(start)
        for start in starts:
            m = _ASSIGNMENT.match(text, start)
            if m is not None and _SECRET_NAME_RE.search(m.group("name")):
                group = "quoted" if m.group("quoted") is not None else "bare"
                value = m.group(group)
                if self._looks_secret(value, quoted=group == "quoted"):
                    vstart, vend = m.span(group)
                    yield Span(vstart, vend, self.kind, value, self.name, self.priority)
                    continue
            if not _LINE_START.search(text, max(0, start - 12), start):
                continue
            line = _LINE_ASSIGNMENT.match(text, start)
            if line is not None and _SECRET_NAME_RE.search(line.group("name")):
                value = line.group("value")
                if self._looks_secret(value, quoted=False):
                    vstart, vend = line.span("value")
                    yield Span(vstart, vend, self.kind, value, self.name, self.priority)
        if "bearer" in lowered:
            for m in _BEARER.finditer(text):
                value = m.group("value")
                if self._looks_secret(value, quoted=True):
                    vstart, vend = m.span("value")
                    yield Span(vstart, vend, self.kind, value, "bearer_token", self.priority)

    @staticmethod
    def _looks_secret(value: str, *, quoted: bool) -> bool:
        if _PLACEHOLDER.search(value) or len(set(value)) < 5:
            return False
        if not quoted and _CODE.match(value):
            return False
        classes = sum(
            bool(p.search(value)) for p in (_HAS_DIGIT, _HAS_LOWER, _HAS_UPPER, _HAS_SYMBOL)
        )
        entropy = shannon_entropy(value)
        if quoted:
            return len(value) >= 8 and classes >= 2 and entropy >= 2.5
        if not _IDENTIFIER_LIKE.match(value):
            # Unquoted but with symbols no name has (``&02hGEO657L``): a literal, as in .env
            # files and YAML.
            return len(value) >= 8 and classes >= 3 and entropy >= 2.5
        return len(value) >= 16 and _HAS_DIGIT.search(value) is not None and entropy >= 3.5

"""Redaction quality: recall and precision on a seeded corpus, false positives on real data.

Usage: python bench/redaction_quality.py [--pairs 1000] [--seed 13] [--data /work/shared/data]
                                         [--presidio-python PATH] [--json]

1. **Planted corpus.** ``--pairs`` prompt/response/response triples written from templates
   (support tickets, code, config files, logs, chat) in several Faker locales, with known
   values planted (emails, phone numbers, cards, IBANs, SSNs, IPv4/IPv6, URL credentials,
   provider keys, JWTs, PEM keys, assigned secrets, a user pattern ``TICKET=ENG-\\d+``) and
   hard negatives (versions, dates, prices, git SHAs, UUIDs, ISBNs, timestamps, order numbers).
   A planted value counts as *found* when detected spans cover every character of it (a
   partial redaction leaks); *kind-correct* when one span of its own kind covers it. A
   detected span that touches no planted value is a false positive. Phone numbers are also
   reported separately for the numbers libphonenumber calls valid: Faker invents many numbers
   no country would issue.
2. **Real data.** Every prompt and response of ``--data/*/pairs.jsonl`` is scanned; every
   detection is listed (the sets are public) and the rate per 10,000 words reported.
3. **Throughput.** ``Redactor.redact_pair`` over the real pairs (CPU seconds, one process).
4. **Presidio**, when ``--presidio-python`` names an interpreter with ``presidio-analyzer``
   installed: the same corpus and real data through ``AnalyzerEngine`` with its pattern
   recognisers on a blank spaCy pipeline (no NER model can be downloaded here), entities mapped
   to ours (EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, IBAN_CODE, US_SSN, IP_ADDRESS).
"""

from __future__ import annotations

import argparse
import base64
import glob
import json
import os
import random
import re
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import phonenumbers
from faker import Faker

from redaction import PseudonymState, Redactor
from redaction.detect_contact import DEFAULT_PHONE_REGIONS

LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL", "pt_BR", "en_IN"]
PHONE_REGION = {"en_US": "US", "en_GB": "GB", "de_DE": "DE", "fr_FR": "FR", "it_IT": "IT",
                "es_ES": "ES", "nl_NL": "NL", "pt_BR": "BR", "en_IN": "IN"}  # fmt: skip
STRUCTURED = ["EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "URL_CREDENTIALS", "SECRET"]
END = datetime(2025, 1, 1)  # Faker's dates end "now" by default: fixed, so runs repeat
USER_PATTERNS = [r"TICKET=ENG-\d+"]


@dataclass
class Planted:
    field: str
    start: int
    end: int
    kind: str
    value: str
    sub: str = ""  # e.g. phone: "valid"/"invalid"; secret: provider


@dataclass
class Doc:
    texts: dict[str, str]
    planted: list[Planted] = field(default_factory=list)
    negatives: list[Planted] = field(default_factory=list)


class Values:
    """Value generators, one Faker per locale, all seeded."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fakers = {}
        for i, loc in enumerate(LOCALES):
            f = Faker(loc)
            f.seed_instance(seed + i)
            self.fakers[loc] = f

    def faker(self) -> tuple[str, Faker]:
        loc = self.rng.choice(LOCALES)
        return loc, self.fakers[loc]

    def _rand(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def email(self) -> tuple[str, str]:
        _, f = self.faker()
        v = self.rng.choice([f.email, f.free_email, f.company_email, f.ascii_safe_email])()
        if self.rng.random() < 0.15:
            v = v[0].upper() + v[1:]
        return v, ""

    def phone(self) -> tuple[str, str]:
        loc, f = self.faker()
        v = f.phone_number()
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse(v, PHONE_REGION[loc]))
        except phonenumbers.NumberParseException:
            valid = False
        return v, "valid" if valid else "invalid"

    def card(self) -> tuple[str, str]:
        _, f = self.faker()
        kind = self.rng.choice(
            ["visa16", "visa13", "mastercard", "amex", "discover", "jcb16", "diners", "maestro"]
        )
        digits = f.credit_card_number(card_type=kind)
        style = self.rng.random()
        if style < 0.4:
            return digits, kind
        sep = " " if style < 0.75 else "-"
        if len(digits) == 15 or len(digits) == 14:
            groups = [digits[:4], digits[4:10], digits[10:]]
        else:
            groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
        return sep.join(groups), kind

    def iban(self) -> tuple[str, str]:
        # Faker's en_IN locale writes GB IBANs one character short (invalid): not planted.
        loc = self.rng.choice([loc for loc in LOCALES if loc != "en_IN"])
        v = self.fakers[loc].iban()
        if self.rng.random() < 0.5:
            v = " ".join(v[i : i + 4] for i in range(0, len(v), 4))
        return v, loc

    def ssn(self) -> tuple[str, str]:
        v = self.fakers["en_US"].ssn()
        if self.rng.random() < 0.15:
            v = v.replace("-", " ")
        return v, ""

    def ip(self) -> tuple[str, str]:
        f = self.fakers["en_US"]
        r = self.rng.random()
        if r < 0.4:
            return f.ipv4_public(), "v4"
        if r < 0.65:
            return f.ipv4_private(), "v4"
        v = f.ipv6()
        if self.rng.random() < 0.5:
            import ipaddress

            v = ipaddress.IPv6Address(v).compressed
        return v, "v6"

    def url_credentials(self) -> tuple[str, str, str]:
        _, f = self.faker()
        user = f.user_name()
        pw = f.password(length=self.rng.randint(10, 18), special_chars=False)
        host = f.domain_name()
        scheme = self.rng.choice(["postgresql", "mysql", "https", "redis", "amqp", "mongodb"])
        return f"{scheme}://{user}:{pw}@{host}/{f.word()}", f"{user}:{pw}", scheme

    def secret(self, assigned: bool) -> tuple[str, str]:
        """A provider-shaped key; or, in an assignment (``password = "..."``), any secret."""
        a = string.ascii_letters + string.digits
        up = string.ascii_uppercase + string.digits
        shapes: dict[str, Callable[[], str]] = {
            "openai_legacy": lambda: "sk-" + self._rand(a, 48),
            "openai_proj": lambda: "sk-proj-" + self._rand(a + "_-", 120),
            "anthropic": lambda: "sk-ant-api03-" + self._rand(a + "_-", 93) + "AA",
            "aws": lambda: "AKIA" + self._rand(up, 16),
            "github": lambda: "ghp_" + self._rand(a, 36),
            "github_pat": lambda: "github_pat_" + self._rand(a, 22) + "_" + self._rand(a, 59),
            "slack": lambda: (
                "xoxb-"
                + self._rand(string.digits, 12)
                + "-"
                + self._rand(string.digits, 13)
                + "-"
                + self._rand(a, 24)
            ),
            "google": lambda: "AIza" + self._rand(a + "_-", 35),
            "stripe": lambda: "sk_live_" + self._rand(a, 24),
            "jwt": self._jwt,
            "pem": self._pem,
            "assigned": lambda: self.fakers["en_US"].password(length=self.rng.randint(10, 24)),
        }
        if not assigned:
            del shapes["assigned"]
        else:
            shapes["assigned_random"] = lambda: self._rand(a, self.rng.randint(20, 48))
        name = self.rng.choice(list(shapes))
        return shapes[name](), name

    def _jwt(self) -> str:
        def b64(obj: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

        f = self.fakers["en_US"]
        header = {"alg": self.rng.choice(["HS256", "RS256"]), "typ": "JWT"}
        payload = {
            "sub": str(self.rng.randint(1, 10**9)),
            "name": f.name(),
            "iat": self.rng.randint(1_600_000_000, 1_800_000_000),
        }
        sig = base64.urlsafe_b64encode(self.rng.randbytes(32)).rstrip(b"=").decode()
        return f"{b64(header)}.{b64(payload)}.{sig}"

    def _pem(self) -> str:
        label = self.rng.choice(["RSA ", "EC ", "", "OPENSSH "])
        body = base64.b64encode(self.rng.randbytes(self.rng.randint(100, 400))).decode()
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return (
            f"-----BEGIN {label}PRIVATE KEY-----\n"
            + "\n".join(lines)
            + f"\n-----END {label}PRIVATE KEY-----"
        )

    def ticket(self) -> tuple[str, str]:
        return f"ENG-{self.rng.randint(1, 99999)}", ""

    # hard negatives ---------------------------------------------------------------------
    def version(self) -> tuple[str, str]:
        r = self.rng.randint
        choices: dict[str, Callable[[], str]] = {
            "version": lambda: f"v{r(0, 12)}.{r(0, 30)}.{r(0, 99)}",
            "version3": lambda: f"{r(0, 12)}.{r(0, 30)}.{r(0, 99)}",
            "version4": lambda: ".".join(str(r(0, 20)) for _ in range(4)),
            "version_rc": lambda: f"{r(0, 5)}.{r(0, 20)}.{r(0, 9)}-rc.{r(1, 4)}",
        }
        name = self.rng.choice(list(choices))
        return choices[name](), name

    def negative(self) -> tuple[str, str]:
        f = self.fakers["en_US"]
        choices: dict[str, Callable[[], str]] = {
            "date": lambda: f.date(end_datetime=END),
            "date_eu": lambda: f.date(pattern="%d.%m.%Y", end_datetime=END),
            "date_us": lambda: f.date(pattern="%m/%d/%Y", end_datetime=END),
            "datetime": lambda: f.iso8601(end_datetime=END),
            "price": lambda: f"${self.rng.randint(1, 99999):,}.{self.rng.randint(0, 99):02d}",
            "git_sha": lambda: f.sha1(),
            "short_sha": lambda: f.sha1()[:12],
            "uuid": lambda: f.uuid4(),
            "isbn": lambda: f.isbn13(),
            "timestamp": lambda: str(self.rng.randint(1_500_000_000, 1_800_000_000)),
            "order_no": lambda: f"#{self.rng.randint(10**7, 10**9)}",
            "big_number": lambda: f"{self.rng.randint(10**6, 10**12):,}",
            "digits16": lambda: "".join(self.rng.choice(string.digits) for _ in range(16)),
            "time": lambda: f.time(end_datetime=END),
            "md5": lambda: f.md5(),
            "float": lambda: f"{self.rng.uniform(-1000, 1000):.6f}",
            "zip": lambda: f.postcode(),
            "ean": lambda: f.ean13(),
            "cpp": lambda: "std::vector<int>",
        }
        name = self.rng.choice(list(choices))
        return choices[name](), name


# Templates: {K} is a planted value of kind K; {N} a hard negative (dates, prices, SHAs, UUIDs,
# ids...), {V} a version number where versions are written ("upgrading to {V}", "build {V}");
# {NAME} a person's name (not scored: no name model is installed).
PROMPTS = [
    "Hi, I'm {NAME}. My email is {EMAIL} and my phone is {PHONE}. Order {N} never arrived, can you help?",
    "Customer {NAME} ({EMAIL}) reports that card {CARD} was charged twice on {N}. Draft a reply.",
    "Please update my bank details to IBAN {IBAN}. My reference is {TICKET}. Thanks, {NAME}",
    'Fix this config, the app crashes since {N}:\n```python\nDATABASE_URL = "{URL_CREDENTIALS}"\nOPENAI_API_KEY = "{SECRET}"\n```',
    "Why does `curl -H 'Authorization: Bearer {SECRET}' https://api.example.com/v1/items` return 401 after upgrading to {V}?",
    "Our server {IP} keeps dropping connections from {IP}. Logs attached, see {TICKET}.",
    "Summarise this ticket: caller {NAME}, SSN {SSN}, callback number {PHONE}, issue opened {N}.",
    "I got this error with key {SECRET} on build {V}: permission denied. What now?",
    "Translate to French: 'Contact our office at {PHONE} or write to {EMAIL} before {N}.'",
    "Explain what this .env does:\n\nAWS_ACCESS_KEY_ID={SECRET}\nREDIS_URL={URL_CREDENTIALS}\nRELEASE={V}\n",
    "My IPv6 address is {IP} and the router says {N}. Is the firewall rule wrong?",
    "Write a polite refusal to {NAME}, who asked us (from {EMAIL}) to wire money to {IBAN}.",
    "Review this YAML:\n\nservice:\n  host: {IP}\n  api_key: {SECRET}\n  image_tag: {V}\n",
    "Here's the JWT from the failing request: {SECRET}. Decode the header and tell me what's wrong.",
    "Deploy key for the runner (do not share):\n{SECRET}\nCommit {N} breaks it.",
    "Customer reached us on {PHONE}; card ending digits do not match {CARD}. Ticket {TICKET}.",
]
RESPONSES = [
    "Sure. I've noted {EMAIL} and will call {PHONE} within 24 hours. Reference: {N}.",
    "The duplicate charge on {CARD} was refunded; it appears on statements after {N}.",
    "Don't put credentials in code: rotate {SECRET} now and load it from the environment instead.",
    "The connection string {URL_CREDENTIALS} exposes the password; move it to a secret store. Version {V} reads `DATABASE_URL` from the environment.",
    "Requests from {IP} are blocked by rule {N}; allow-list {IP} in the security group.",
    "We've updated the payout account to {IBAN}. You'll get a confirmation at {EMAIL}.",
    "I can't process SSN {SSN} over chat. Please call {PHONE} and quote {TICKET}.",
    "Bonjour, contactez notre bureau au {PHONE} ou écrivez à {EMAIL} avant le {N}.",
    "The header decodes to an HS256 token; {SECRET} has expired (exp before {N}).",
    "Your `.env` sets the AWS key to {SECRET} and Redis at {URL_CREDENTIALS}; never commit this file.",
    "Hi {NAME}, thanks for your patience. Your ticket {TICKET} is now closed as of {N}.",
    "The firewall rule for {IP} is fine; the problem is the MTU (see release notes {V}).",
    '```python\nimport os\npassword = "{SECRET}"  # TODO: remove\nclient = Client(password=password, timeout={N})\n```',
    "The key starts with the right prefix, but {SECRET} was revoked on {N}. Create a new one.",
    "Dear {NAME}, we cannot wire funds to {IBAN}. If you did not request this, call {PHONE}.",
    "Everything looks fine: build {V} passes and the config has no secrets.",
    "Upgrade to {V}, then restart. No personal data is needed for this.",
]
ASSIGNMENT_BEFORE = re.compile(r"(?i)(?:key|password|token|secret|_ID)[\"']?\s*[:=]\s*[\"']?$")


def fill(
    template: str, fieldname: str, values: Values, doc: Doc, reuse: dict[str, list[Any]]
) -> str:
    """Render ``template``, recording planted spans; reuses values across fields of a pair."""
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(template):
        if template[i] == "{":
            j = template.index("}", i)
            key = template[i + 1 : j]
            start = pos
            planted: Planted | None = None
            negative: Planted | None = None
            if key == "NAME":
                text = values.faker()[1].name()
            elif key in ("N", "V"):
                text, sub = values.negative() if key == "N" else values.version()
                negative = Planted(fieldname, start, start + len(text), "NEG", text, sub)
            else:
                prior = reuse.get(key)
                if prior and values.rng.random() < 0.5:
                    text, covered, sub, offset = values.rng.choice(prior)
                else:
                    if key == "URL_CREDENTIALS":
                        text, covered, sub = values.url_credentials()
                        offset = text.index(covered)
                    else:
                        gen = {
                            "EMAIL": values.email,
                            "PHONE": values.phone,
                            "CARD": values.card,
                            "IBAN": values.iban,
                            "SSN": values.ssn,
                            "IP": values.ip,
                            "TICKET": values.ticket,
                        }.get(key)
                        if gen is None:  # SECRET: in an assignment any secret, else a key shape
                            assigned = bool(ASSIGNMENT_BEFORE.search(template[:i]))
                            text, sub = values.secret(assigned)
                        else:
                            text, sub = gen()
                        covered, offset = text, 0
                    reuse.setdefault(key, []).append((text, covered, sub, offset))
                planted = Planted(
                    fieldname, start + offset, start + offset + len(covered), key, covered, sub
                )
            out.append(text)
            pos += len(text)
            if planted:
                doc.planted.append(planted)
            if negative:
                doc.negatives.append(negative)
            i = j + 1
        else:
            out.append(template[i])
            pos += 1
            i += 1
    return "".join(out)


def make_corpus(n_pairs: int, seed: int) -> list[Doc]:
    values = Values(seed)
    docs = []
    for _ in range(n_pairs):
        doc = Doc(texts={})
        reuse: dict[str, list[Any]] = {}
        for fieldname, pool in (
            ("prompt", PROMPTS),
            ("response_a", RESPONSES),
            ("response_b", RESPONSES),
        ):
            doc.texts[fieldname] = fill(values.rng.choice(pool), fieldname, values, doc, reuse)
        docs.append(doc)
    return docs


def score(
    docs: list[Doc], detections: list[dict[str, list[tuple[int, int, str]]]]
) -> dict[str, Any]:
    """Recall per planted kind (covered, kind-correct), precision per detected kind."""
    planted_n: Counter[str] = Counter()
    found: Counter[str] = Counter()
    kind_ok: Counter[str] = Counter()
    sub_n: Counter[tuple[str, str]] = Counter()
    sub_found: Counter[tuple[str, str]] = Counter()
    det_n: Counter[str] = Counter()
    det_tp: Counter[str] = Counter()
    fp_examples: list[tuple[str, str]] = []
    fp_on_negatives: Counter[str] = Counter()
    misses: list[tuple[str, str, str]] = []
    for doc, det in zip(docs, detections, strict=True):
        for p in doc.planted:
            spans = det.get(p.field, [])
            covered = set()
            own = False
            for s, e, k in spans:
                if s < p.end and p.start < e:
                    covered.update(range(max(s, p.start), min(e, p.end)))
                    if k == p.kind and s <= p.start and e >= p.end:
                        own = True
            ok = len(covered) == p.end - p.start
            planted_n[p.kind] += 1
            found[p.kind] += ok
            kind_ok[p.kind] += own
            sub_n[(p.kind, p.sub)] += 1
            sub_found[(p.kind, p.sub)] += ok
            if not ok:
                misses.append((p.kind, p.sub, p.value))
        for fieldname, spans in det.items():
            for s, e, k in spans:
                det_n[k] += 1
                hit = [p for p in doc.planted if p.field == fieldname and s < p.end and p.start < e]
                if hit:
                    det_tp[k] += 1
                else:
                    neg = [
                        n
                        for n in doc.negatives
                        if n.field == fieldname and s < n.end and n.start < e
                    ]
                    text = doc.texts[fieldname][s:e]
                    if neg:
                        fp_on_negatives[neg[0].sub] += 1
                    fp_examples.append((k, text))
    kinds = sorted(set(planted_n) | set(det_n))
    per_kind = {
        k: {
            "planted": planted_n[k],
            "recall": found[k] / planted_n[k] if planted_n[k] else None,
            "recall_kind_correct": kind_ok[k] / planted_n[k] if planted_n[k] else None,
            "detected": det_n[k],
            "precision": det_tp[k] / det_n[k] if det_n[k] else None,
        }
        for k in kinds
    }
    total_planted = sum(planted_n.values())
    structured = [k for k in STRUCTURED if planted_n[k]]
    return {
        "per_kind": per_kind,
        "by_subtype": {
            f"{k}/{s}": {"planted": n, "recall": sub_found[(k, s)] / n}
            for (k, s), n in sorted(sub_n.items())
        },
        "overall": {
            "planted": total_planted,
            "recall": sum(found.values()) / total_planted,
            "detected": sum(det_n.values()),
            "precision": sum(det_tp.values()) / max(1, sum(det_n.values())),
            "structured_recall": sum(found[k] for k in structured)
            / sum(planted_n[k] for k in structured),
        },
        "false_positives": len(fp_examples),
        "false_positives_on_hard_negatives": dict(fp_on_negatives),
        "false_positive_examples": fp_examples[:20],
        "misses": misses[:40],
    }


def ours_on_corpus(docs: list[Doc]) -> list[dict[str, list[tuple[int, int, str]]]]:
    """What ``Redactor.redact_pair`` replaces, as (start, end, kind) in the original texts."""
    redactor = Redactor(b"bench-key-bench-key-bench-key-32", USER_PATTERNS)
    state = PseudonymState()
    out = []
    for doc in docs:
        _, findings = redactor.redact_pair(
            doc.texts["prompt"], doc.texts["response_a"], doc.texts["response_b"], state
        )
        spans: dict[str, list[tuple[int, int, str]]] = {f: [] for f in doc.texts}
        for f in findings:
            spans[f.field].append((f.start, f.end, f.kind))
        out.append(spans)
    return out


def leak_check(docs: list[Doc]) -> dict[str, Any]:
    """Redact each pair for real and count planted values still present verbatim."""
    redactor = Redactor(b"bench-key-bench-key-bench-key-32", USER_PATTERNS)
    state = PseudonymState()
    leaks: Counter[str] = Counter()
    consistent = 0
    checked = 0
    for doc in docs:
        (p, a, b), findings = redactor.redact_pair(
            doc.texts["prompt"], doc.texts["response_a"], doc.texts["response_b"], state
        )
        joined = "\n".join((p, a, b))
        for planted in doc.planted:
            if planted.value in joined:
                leaks[planted.kind] += 1
        by_value: dict[str, set[str]] = defaultdict(set)
        for f in findings:
            by_value[f.value].add(f.token)
        checked += len(by_value)
        consistent += sum(len(t) == 1 for t in by_value.values())
    return {
        "values_left_verbatim": dict(leaks),
        "distinct_tokens": len(state),
        "same_value_same_token": f"{consistent}/{checked}",
    }


def real_texts(data: Path) -> list[tuple[str, str, str]]:
    rows = []
    for path in sorted(glob.glob(str(data / "*" / "pairs.jsonl"))):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                for f in ("prompt", "response_a", "response_b"):
                    rows.append((rec["id"], f, rec[f]))
    return rows


def ours_on_real(rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    redactor = Redactor(b"bench-key-bench-key-bench-key-32")
    words = 0
    found = []
    for pid, f, text in rows:
        words += len(text.split())
        for s in redactor.find(text):
            ctx = text[max(0, s.start - 30) : s.end + 15].replace("\n", " ")
            found.append(
                {"pair": pid, "field": f, "kind": s.kind, "detector": s.detector, "context": ctx}
            )
    return {
        "texts": len(rows),
        "words": words,
        "detections": len(found),
        "per_10k_words": len(found) / words * 1e4,
        "by_kind": dict(Counter(d["kind"] for d in found)),
        "list": found,
    }


def throughput(data: Path) -> dict[str, float]:
    pairs = []
    for path in sorted(glob.glob(str(data / "*" / "pairs.jsonl"))):
        with open(path, encoding="utf-8") as fh:
            pairs += [json.loads(line) for line in fh]
    redactor = Redactor(b"bench-key-bench-key-bench-key-32")
    _warm_up(redactor)
    best = float("inf")
    for _ in range(3):
        state = PseudonymState()
        t0 = time.process_time()
        for r in pairs:
            redactor.redact_pair(r["prompt"], r["response_a"], r["response_b"], state)
        best = min(best, time.process_time() - t0)
    chars = sum(len(r["prompt"]) + len(r["response_a"]) + len(r["response_b"]) for r in pairs)
    return {
        "pairs": len(pairs),
        "cpu_seconds": best,
        "pairs_per_cpu_second": len(pairs) / best,
        "mean_pair_chars": chars / len(pairs),
    }


def _warm_up(redactor: Redactor) -> None:
    """libphonenumber loads each region's metadata on first use: do it before timing."""
    for region in DEFAULT_PHONE_REGIONS:
        phonenumbers.parse("+1 415 555 2671", region)
        phonenumbers.is_valid_number(phonenumbers.parse("020 7946 0958", region))
    redactor.find("call 020 7946 0958 or +44 20 7946 0958 or (415) 555-2671")


def ingest_like(docs: list[Doc], batch: int = 500) -> dict[str, float]:
    """Redact the PII-dense corpus and store every value in a SQLite vault, one store per batch
    (as an ingest would), wall-clock."""
    from referee.privacy import Vault, VaultKey, generate_vault_key

    with tempfile.TemporaryDirectory() as tmp:
        vault = Vault(f"sqlite:///{Path(tmp) / 'vault.db'}")
        key = VaultKey.from_string(generate_vault_key())
        redactor = Redactor(vault.dataset_key("bench", key), USER_PATTERNS)
        _warm_up(redactor)
        t0 = time.perf_counter()
        c0 = time.process_time()
        state = PseudonymState()
        stored = 0
        pending = []
        for i, doc in enumerate(docs, 1):
            _, findings = redactor.redact_pair(
                doc.texts["prompt"], doc.texts["response_a"], doc.texts["response_b"], state
            )
            pending.extend(findings)
            if i % batch == 0 or i == len(docs):
                stored += vault.store("bench", pending, key, actor="bench")
                pending = []
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0
        vault.dispose()
    return {
        "pairs": len(docs),
        "values_stored": stored,
        "seconds": seconds,
        "pairs_per_second": len(docs) / seconds,
        "pairs_per_cpu_second": len(docs) / cpu,
    }


PRESIDIO_SCRIPT = r"""
import json, sys, logging
logging.disable(logging.CRITICAL)
import spacy
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider
blank = sys.argv[3]
spacy.blank("en").to_disk(blank)
conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": blank}]}
engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine(),
                        supported_languages=["en"])
MAP = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CARD",
       "IBAN_CODE": "IBAN", "US_SSN": "SSN", "IP_ADDRESS": "IP"}
with open(sys.argv[1]) as fh, open(sys.argv[2], "w") as out:
    for line in fh:
        text = json.loads(line)
        res = engine.analyze(text, language="en", entities=list(MAP))
        spans = sorted({(r.start, r.end, MAP[r.entity_type]) for r in res})
        # Presidio's anonymizer resolves overlaps itself; keep the longest per start.
        out.write(json.dumps(spans) + "\n")
"""


def run_presidio(python: str, texts: list[str]) -> tuple[list[list[tuple[int, int, str]]], float]:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst, script = Path(tmp, "in.jsonl"), Path(tmp, "out.jsonl"), Path(tmp, "p.py")
        src.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
        script.write_text(PRESIDIO_SCRIPT)
        t0 = time.perf_counter()
        subprocess.run(
            [python, str(script), str(src), str(dst), str(Path(tmp, "blank_en"))],
            check=True,
            stderr=subprocess.DEVNULL,
            timeout=1800,
        )
        seconds = time.perf_counter() - t0
        return [
            [tuple(s) for s in json.loads(line)] for line in dst.read_text().splitlines()
        ], seconds


def presidio_report(
    python: str, docs: list[Doc], rows: list[tuple[str, str, str]]
) -> dict[str, Any]:
    fields = ("prompt", "response_a", "response_b")
    flat = [doc.texts[f] for doc in docs for f in fields]
    spans, seconds = run_presidio(python, flat)
    dets = []
    for i, _ in enumerate(docs):
        dets.append({f: spans[i * 3 + j] for j, f in enumerate(fields)})  # type: ignore[misc]
    corpus = score(docs, dets)
    real_spans, real_seconds = run_presidio(python, [t for _, _, t in rows])
    words = sum(len(t.split()) for _, _, t in rows)
    n = sum(len(s) for s in real_spans)
    by_kind = Counter(k for s in real_spans for _, _, k in s)
    return {
        "corpus": corpus,
        "corpus_seconds": seconds,
        "real": {
            "detections": n,
            "per_10k_words": n / words * 1e4,
            "by_kind": dict(by_kind),
            "seconds": real_seconds,
            "pairs_per_second": len(rows) / 3 / real_seconds,
        },
    }


def print_table(title: str, result: dict[str, Any]) -> None:
    print(f"\n{title}")
    print(
        f"  {'kind':16s} {'planted':>7s} {'recall':>7s} {'kind-ok':>7s} {'detected':>8s} {'precision':>9s}"
    )
    for k, r in result["per_kind"].items():

        def f(x: float | None) -> str:
            return "-" if x is None else f"{x:.4f}"

        print(
            f"  {k:16s} {r['planted']:7d} {f(r['recall']):>7s} {f(r['recall_kind_correct']):>7s} "
            f"{r['detected']:8d} {f(r['precision']):>9s}"
        )
    o = result["overall"]
    print(
        f"  overall: planted {o['planted']}, recall {o['recall']:.4f} (structured kinds "
        f"{o['structured_recall']:.4f}), detected {o['detected']}, precision {o['precision']:.4f}"
    )
    print(
        f"  false positives {result['false_positives']}, on hard negatives: "
        f"{result['false_positives_on_hard_negatives']}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("REFEREE_SHARED_DATA", "/work/shared/data")),
    )
    ap.add_argument("--presidio-python", default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    docs = make_corpus(args.pairs, args.seed)
    result: dict[str, Any] = {"pairs": args.pairs, "seed": args.seed}
    result["ours"] = score(docs, ours_on_corpus(docs))
    result["leak_check"] = leak_check(docs)
    result["ingest_like"] = ingest_like(docs)
    rows = real_texts(args.data) if args.data.exists() else []
    if rows:
        result["real"] = ours_on_real(rows)
        result["throughput"] = throughput(args.data)
    if args.presidio_python:
        result["presidio"] = presidio_report(args.presidio_python, docs, rows)
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return
    print(f"Seeded corpus: {args.pairs} pairs, seed {args.seed}, locales {', '.join(LOCALES)}")
    print_table("Referee detectors", result["ours"])
    print("  recall by subtype:")
    for k, r in result["ours"]["by_subtype"].items():
        if r["recall"] < 1 or k.startswith("PHONE"):
            print(f"    {k:28s} {r['planted']:5d} {r['recall']:.4f}")
    print(f"  misses (first): {result['ours']['misses'][:12]}")
    print(f"  FP examples: {result['ours']['false_positive_examples'][:10]}")
    print(f"  leak check after redact_pair: {result['leak_check']}")
    il = result["ingest_like"]
    print(
        f"  redact_pair + vault.store (SQLite, per 500 pairs): {il['pairs_per_second']:.0f} pairs/s wall, {il['pairs_per_cpu_second']:.0f} per CPU second "
        f"({il['values_stored']} values stored)"
    )
    if rows:
        real = result["real"]
        print(
            f"\nReal data ({args.data}): {real['texts']} texts, {real['words']} words, "
            f"{real['detections']} detections = {real['per_10k_words']:.3f} per 10,000 words "
            f"{real['by_kind']}"
        )
        for d in real["list"]:
            print(f"    {d['pair']} {d['field']:10s} {d['kind']:6s} …{d['context']}…")
        t = result["throughput"]
        print(
            f"\nThroughput: redact_pair over {t['pairs']} real pairs (mean {t['mean_pair_chars']:.0f} "
            f"chars): {t['pairs_per_cpu_second']:.0f} pairs per CPU second"
        )
    if "presidio" in result:
        p = result["presidio"]
        print_table(
            f"Presidio (pattern recognisers, blank spaCy pipeline; {p['corpus_seconds']:.1f}s)",
            p["corpus"],
        )
        print(
            f"  real data: {p['real']['detections']} detections = {p['real']['per_10k_words']:.3f} "
            f"per 10,000 words {p['real']['by_kind']}; {p['real']['pairs_per_second']:.0f} pairs/s"
        )


if __name__ == "__main__":
    main()

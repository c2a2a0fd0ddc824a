"""Each detector: true positives, and the tricky negatives that must stay untouched."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

import pytest

from redaction import Redactor, Span


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(b"test-key-test-key-test-key-32byt")


def found(redactor: Redactor, text: str) -> list[tuple[str, str]]:
    return [(s.kind, text[s.start : s.end]) for s in redactor.find(text)]


POSITIVES = [
    # email
    ("Write to John.Smith@Example.com today.", "EMAIL", "John.Smith@Example.com"),
    ("mail: a.b-c+tag@sub.mail.co.uk.", "EMAIL", "a.b-c+tag@sub.mail.co.uk"),
    ("<jane_doe@corp.io>", "EMAIL", "jane_doe@corp.io"),
    # phones
    ("Call +1 415-555-2671 now", "PHONE", "+1 415-555-2671"),
    ("Call me at (415) 555-0100.", "PHONE", "(415) 555-0100"),
    ("cell 415.555.0100", "PHONE", "415.555.0100"),
    ("UK office: +44 20 7946 0958", "PHONE", "+44 20 7946 0958"),
    ("London 020 7946 0958 ext 12", "PHONE", "020 7946 0958 ext 12"),
    ("Berlin +49 30 901820", "PHONE", "+49 30 901820"),
    ("Paris 01 42 68 53 00", "PHONE", "01 42 68 53 00"),
    ("Paris +33 1 42 68 53 00", "PHONE", "+33 1 42 68 53 00"),
    ("India +91 98765 43210", "PHONE", "+91 98765 43210"),
    ("Tokyo 0044 20 7946 0958", "PHONE", "0044 20 7946 0958"),
    ("E.164 +14155552671", "PHONE", "+14155552671"),
    ("phone: 4155552671", "PHONE", "4155552671"),
    ("+49(0)30 901820", "PHONE", "+49(0)30 901820"),
    # cards
    ("card 4111 1111 1111 1111 exp 12/27", "CARD", "4111 1111 1111 1111"),
    ("cc=5500-0000-0000-0004", "CARD", "5500-0000-0000-0004"),
    ("amex 3782 822463 10005", "CARD", "3782 822463 10005"),
    ("number 6011111111111117.", "CARD", "6011111111111117"),
    # IBAN
    ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN", "GB82 WEST 1234 5698 7654 32"),
    ("to DE89370400440532013000.", "IBAN", "DE89370400440532013000"),
    # SSN
    ("SSN 123-45-6789.", "SSN", "123-45-6789"),
    ("social security number: 536221234", "SSN", "536221234"),
    # IP
    ("from 192.168.1.20 and", "IP", "192.168.1.20"),
    ("peer 8.8.8.8:53", "IP", "8.8.8.8"),
    ("host 2001:db8:85a3::8a2e:370:7334 down", "IP", "2001:db8:85a3::8a2e:370:7334"),
    ("link fe80::1ff:fe23:4567:890a%eth0", "IP", "fe80::1ff:fe23:4567:890a"),
    (
        "full 2001:0db8:0000:0000:0000:ff00:0042:8329",
        "IP",
        "2001:0db8:0000:0000:0000:ff00:0042:8329",
    ),
    # URL credentials: only the user information
    ("postgresql://app:s3cr3t@db.internal:5432/prod", "URL_CREDENTIALS", "app:s3cr3t"),
    ("https://bob:p%40ss@example.com/x", "URL_CREDENTIALS", "bob:p%40ss"),
    # secrets
    (
        "key sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abc",
        "SECRET",
        "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abc",
    ),
    ("OPENAI sk-" + "a1B2c3D4" * 6, "SECRET", "sk-" + "a1B2c3D4" * 6),
    (
        "ANTHROPIC sk-ant-api03-" + "x9Y8z7W6" * 11 + "AA",
        "SECRET",
        "sk-ant-api03-" + "x9Y8z7W6" * 11 + "AA",
    ),
    ("aws AKIAIOSFODNN7EXAMPLE", "SECRET", "AKIAIOSFODNN7EXAMPLE"),
    ("gh ghp_" + "a" * 18 + "B" * 18, "SECRET", "ghp_" + "a" * 18 + "B" * 18),
    (
        "pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "SECRET",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    ),
    (
        "slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "SECRET",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (
        "google AIzaSyA-1234567890abcdefghijklmnopqrstu",
        "SECRET",
        "AIzaSyA-1234567890abcdefghijklmnopqrstu",
    ),
    ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "SECRET", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ('password = "hunter2!Xq"', "SECRET", "hunter2!Xq"),
    ('"api_key": "9f8e7d6c5b4a39281706f5e4d3c2b1a0"', "SECRET", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    (
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCY9q2LmZ0KEY",
        "SECRET",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCY9q2LmZ0KEY",
    ),
    ("db:\n  password: &02hGEO657L\n", "SECRET", "&02hGEO657L"),
    ("Authorization: Bearer abcDEF1234567890ghiJKL", "SECRET", "abcDEF1234567890ghiJKL"),
]


@pytest.mark.parametrize(("text", "kind", "value"), POSITIVES)
def test_detects(redactor: Redactor, text: str, kind: str, value: str) -> None:
    assert (kind, value) in found(redactor, text)


def _jwt(header: dict[str, str]) -> str:
    def b64(doc: Mapping[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    return f"{b64(header)}.{b64({'sub': '1234567890', 'name': 'Jane'})}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"


def test_jwt_with_alg_is_a_secret(redactor: Redactor) -> None:
    token = _jwt({"alg": "HS256", "typ": "JWT"})
    assert found(redactor, f"token {token} expired") == [("SECRET", token)]


def test_jwt_shape_without_alg_is_not(redactor: Redactor) -> None:
    token = _jwt({"typ": "JWT"})
    assert found(redactor, f"token {token} expired") == []


def test_pem_private_key_block_whole(redactor: Redactor) -> None:
    block = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow"
        + "A" * 60
        + "\nQk9C\n-----END RSA PRIVATE KEY-----"
    )
    text = f"key:\n{block}\nthanks"
    assert found(redactor, text) == [("SECRET", block)]


def test_pem_block_cut_short_is_still_redacted(redactor: Redactor) -> None:
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAABG5vbmUAAAAE"
    [(kind, value)] = found(redactor, text)
    assert kind == "SECRET" and value.endswith("AAAABG5vbmUAAAAE")


NEGATIVES = [
    "Released v1.2.3.4 on 2023-10-15; see version 10.0.0.1 notes.",
    "upgrade to 2.4.1.0 then pip install foo==1.2.3.4",
    "Dates: 2023-10-15, 15.10.2023, 10/15/2023, 12:30:45.",
    "Prices $1,299.99 and €4 500,00; total 1234567.89",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b and short 3f786850e387",
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "uuid 12345678-1234-1234-1234-123456789012",
    "ISBN 978-0-13-235088-4 and EAN 4006381333931",
    "timestamp 1700000000123 and 1712345678",
    "list 1 2 3 4 5 6 7 8 9 10",
    "matrix A@B.shape and x @ y",
    "git clone git@github.com:org/repo.git",
    "std::vector<int> and a::b, time 12:30:45, mac 00:1A:2B:3C:4D:5E",
    "netmask 255.255.255.0 and localhost 127.0.0.1 and 0.0.0.0",
    "card 4111 1111 1111 1112",  # Luhn fails
    "1234 5678 9012 3456",  # Luhn-valid? no scheme
    "SSN 666-12-3456 and 000-12-3456",
    "password = input('Password: ')",
    'api_key = os.environ["OPENAI_API_KEY"]',
    'token = "your_api_key_here"',
    "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # the documentation's sample
    "tokens = nltk.word_tokenize(text)",
    "the key: understanding the problem",
    "password = user_password",
    'secret = "${SECRET}"',
    "sk-learn is not a key, nor is task-manager-1234",
    "Order #12345678 shipped; invoice 2023-000123",
    "pi = 3.14159265358979",
    "coordinates 40.7128, -74.0060",
    "chapter 1.2.3",
    "statements after 2014-03-10T23:06:00.826704.",
    "Reference: 0012996727632.",  # a barcode, not 00 + a country code
    "at 12:30 4155552671 units",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_tricky_negatives(redactor: Redactor, text: str) -> None:
    assert found(redactor, text) == []


def test_ipv4_validated_by_ipaddress(redactor: Redactor) -> None:
    assert found(redactor, "bad 256.1.1.1 and 01.2.3.4") == []


def test_user_pattern_can_claim_what_a_detector_would_not(redactor: Redactor) -> None:
    custom = Redactor(b"k" * 32, [r"COMMIT=\b[0-9a-f]{12}\b", r"ORDER=order #(?P<value>\d{8})"])
    text = "commit 3f786850e387 fixes order #12345678"
    assert [(s.kind, text[s.start : s.end]) for s in custom.find(text)] == [
        ("COMMIT", "3f786850e387"),
        ("ORDER", "12345678"),
    ]


def test_spans_carry_detector_and_hide_value(redactor: Redactor) -> None:
    [span] = redactor.find("mail bob@example.com")
    assert isinstance(span, Span)
    assert span.detector == "email" and span.normalised == "bob@example.com"
    assert "bob" not in repr(span)


@pytest.mark.parametrize(
    "text",
    ["1 " * 100_000, "12 345 6789 " * 20_000, "4111 " * 50_000, "token_key_" * 20_000,
     "http://a:b@" * 20_000, "password=" * 20_000, "(12) " * 50_000, "a@" * 100_000,
     "".join(f"10.0.{i // 250}.{i % 250 + 1} " for i in range(10_000))],
)  # fmt: skip
def test_pathological_inputs_stay_linear(text: str) -> None:
    import time

    from redaction import PseudonymState

    start = time.process_time()
    Redactor(b"k" * 32).redact_text(text, PseudonymState())
    assert time.process_time() - start < 3.0


# -- context words in Presidio's manner: a number its writer called a phone is one ----------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("phone 0001441174", "0001441174"),
        ("Phone number: 0001441174, ask for Sam", "0001441174"),
        ("tel. 000 144 1174", "000 144 1174"),
        ("mobile is 5550001111", "5550001111"),
        ("Fax: 00349667366", "00349667366"),
    ],
)
def test_a_number_called_a_phone_is_redacted(redactor: Redactor, text: str, value: str) -> None:
    (found,) = [s for s in redactor.find(text) if s.kind == "PHONE"]
    assert text[found.start : found.end] == value


@pytest.mark.parametrize(
    "text",
    [
        "0001441174 is the order id",  # no phone word
        "In 2019 we sold 1234567 units",
        "phone 1 2 3 4 5 6 7",  # a list of numbers, even after the word
        "the phone costs 1200 dollars",  # too few digits
        "my phone was stolen on 2023-05-17",  # a date
    ],
)
def test_context_does_not_make_everything_a_phone(redactor: Redactor, text: str) -> None:
    assert [s for s in redactor.find(text) if s.kind == "PHONE"] == []

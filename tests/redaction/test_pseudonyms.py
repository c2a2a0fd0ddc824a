"""Stable keyed pseudonyms: same value, same token, across fields, pairs and ingests."""

from __future__ import annotations

import json

import pytest

from redaction import (
    PatternError,
    PseudonymKey,
    PseudonymState,
    Redactor,
    StateError,
    parse_pattern,
    resolve_overlaps,
)
from redaction.spans import Span

KEY = b"dataset-key-0123456789abcdef0123"


def test_same_value_same_token_across_prompt_and_both_responses() -> None:
    r = Redactor(KEY)
    state = PseudonymState()
    (p, a, b), findings = r.redact_pair(
        "I am john.smith@example.com, SSN 123-45-6789.",
        "Hello john.smith@example.com, we never store 123-45-6789.",
        "Write to jane@example.org or john.smith@example.com.",
        state,
    )
    assert p == "I am <EMAIL_1>, SSN <SSN_1>."
    assert a == "Hello <EMAIL_1>, we never store <SSN_1>."
    assert b == "Write to <EMAIL_2> or <EMAIL_1>."
    assert {f.field for f in findings} == {"prompt", "response_a", "response_b"}
    assert [f.new for f in findings if f.token == "EMAIL_1"] == [True, False, False]


def test_numbering_survives_across_pairs_and_a_json_round_trip() -> None:
    r = Redactor(KEY)
    state = PseudonymState()
    r.redact_pair("a@x.com", "b@x.com", "", state)
    saved = json.loads(json.dumps(state.to_json()))  # as the main database would keep it
    later = PseudonymState.from_json(saved)
    (p, a, _), _ = r.redact_pair("b@x.com and c@x.com", "A@X.COM", "", later)
    assert p == "<EMAIL_2> and <EMAIL_3>"
    assert a == "<EMAIL_1>"  # normalised: case does not make a new person
    assert later.counts() == {"EMAIL": 3}


def test_two_spellings_of_a_phone_number_share_a_token() -> None:
    r = Redactor(KEY)
    state = PseudonymState()
    (p, a, _), _ = r.redact_pair("call (415) 555-2671", "or +1 415 555 2671", "", state)
    assert p == "call <PHONE_1>" and a == "or <PHONE_1>"


def test_state_holds_no_value_and_tokens_reveal_nothing() -> None:
    values = ["john.smith@example.com", "123-45-6789", "4111 1111 1111 1111", "10.20.30.40"]
    r = Redactor(KEY)
    state = PseudonymState()
    (p, _, _), findings = r.redact_pair(" ".join(values), "", "", state)
    blob = json.dumps(state.to_json())
    assert p == "<EMAIL_1> <SSN_1> <CARD_1> <IP_1>"
    for value in values:
        for piece in (value, value.replace(" ", ""), value.split("@")[0], value[:6]):
            assert piece not in blob
            assert piece not in p
    for f in findings:
        assert f.value not in json.dumps(f.to_json())
        assert f.value not in repr(f)


def test_different_keys_same_numbering_different_digests() -> None:
    s1, s2 = PseudonymState(), PseudonymState()
    t1 = Redactor(KEY).redact_pair("bob@example.com", "", "", s1).texts
    t2 = (
        Redactor(b"another-key-0123456789abcdef0123")
        .redact_pair("bob@example.com", "", "", s2)
        .texts
    )
    assert t1 == t2 == ("<EMAIL_1>", "", "")
    assert set(s1.to_json()["tokens"]).isdisjoint(s2.to_json()["tokens"])


def test_digest_is_keyed_not_a_plain_hash() -> None:
    import hashlib

    digest = PseudonymKey(KEY).digest("SSN", "123456789")
    assert digest not in {
        hashlib.sha256(b"123456789").hexdigest()[:32],
        hashlib.sha256(b"SSN\x1f123456789").hexdigest()[:32],
    }
    assert PseudonymKey(KEY).digest("SSN", "123456789") == digest
    assert PseudonymKey(KEY).digest("PHONE", "123456789") != digest  # kind is part of it


def test_state_built_with_another_key_is_refused() -> None:
    state = PseudonymState()
    Redactor(KEY).redact_pair("bob@example.com", "", "", state)
    with pytest.raises(StateError, match="another dataset key"):
        Redactor(b"another-key-0123456789abcdef0123").redact_pair("x", "", "", state)


@pytest.mark.parametrize(
    "doc",
    [{"format": 99, "tokens": {}}, {"format": 1, "tokens": {"zz": "EMAIL_1"}},
     {"format": 1, "tokens": {"a" * 32: "email-1"}},
     {"format": 1, "tokens": {"a" * 32: "EMAIL_1", "b" * 32: "EMAIL_1"}}],
)  # fmt: skip
def test_malformed_state_is_refused(doc: dict[str, object]) -> None:
    with pytest.raises(StateError):
        PseudonymState.from_json(doc)


def test_short_dataset_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16"):
        Redactor(b"short")


def test_value_found_in_one_field_is_replaced_where_it_repeats() -> None:
    r = Redactor(KEY)
    secret = "Zq8xW3vK9mP2nR7t"
    (p, a, b), _ = r.redact_pair(
        f'password = "{secret}"', f"rotate {secret} now", secret, PseudonymState()
    )
    assert p == 'password = "<SECRET_1>"'
    assert a == "rotate <SECRET_1> now" and b == "<SECRET_1>"


def test_user_patterns_take_precedence_and_change_the_version() -> None:
    plain = Redactor(KEY)
    custom = Redactor(KEY, ["TICKET=ENG-\\d+", r"PHONEID=\d{3}-\d{3}-\d{4}"])
    text = "see ENG-1234, call 415-555-2671"
    assert plain.redact_text(text, PseudonymState())[0] == "see ENG-1234, call <PHONE_1>"
    assert custom.redact_text(text, PseudonymState())[0] == "see <TICKET_1>, call <PHONEID_1>"
    assert plain.version != custom.version
    assert custom.version.startswith(plain.version + "+")
    assert (
        Redactor(KEY, ["TICKET=ENG-\\d+", r"PHONEID=\d{3}-\d{3}-\d{4}"]).version == custom.version
    )


@pytest.mark.parametrize("spec", ["nokind", "lower=abc", "X=(", "X=a*", "X="])
def test_bad_user_patterns(spec: str) -> None:
    with pytest.raises(PatternError):
        parse_pattern(spec)


def test_overlaps_resolve_by_priority_then_length_deterministically() -> None:
    spans = [
        Span(0, 10, "PHONE", "x" * 10, "phone", 40),
        Span(2, 12, "CARD", "y" * 10, "card", 50),
        Span(20, 30, "A", "z" * 10, "a", 10),
        Span(18, 32, "B", "w" * 14, "b", 10),
    ]
    kept = resolve_overlaps(spans)
    assert [(s.kind, s.start) for s in kept] == [("CARD", 2), ("B", 18)]
    assert resolve_overlaps(list(reversed(spans))) == kept


def test_redact_json_redacts_strings_and_keeps_keys() -> None:
    r = Redactor(KEY)
    state = PseudonymState()
    meta, findings = r.redact_json(
        {"user": {"email": "bob@example.com"}, "n": 3, "tags": ["ip 10.1.2.3"]}, state
    )
    assert meta == {"user": {"email": "<EMAIL_1>"}, "n": 3, "tags": ["ip <IP_1>"]}
    assert [f.field for f in findings] == ["meta.user.email", "meta.tags[0]"]


def test_redaction_is_idempotent_on_redacted_text() -> None:
    r = Redactor(KEY)
    state = PseudonymState()
    once, _ = r.redact_text("bob@example.com +44 20 7946 0958 sk-proj-" + "a1" * 20, state)
    twice, found = r.redact_text(once, state)
    assert twice == once and found == []


def test_detection_can_run_in_another_process_and_numbering_stays_in_order() -> None:
    import pickle

    r = Redactor(KEY)
    pairs = [("a@x.com", "b@x.com", ""), ("b@x.com", "", "c@x.com")]
    worker = pickle.loads(pickle.dumps(r))  # as a process pool would receive it
    spans = [worker.detect_pair(*p) for p in pairs]
    state = PseudonymState()
    out = [r.apply_pair(p, s, state).texts for p, s in zip(pairs, spans, strict=True)]
    assert out == [("<EMAIL_1>", "<EMAIL_2>", ""), ("<EMAIL_2>", "", "<EMAIL_3>")]
    assert out[0] == Redactor(KEY).redact_pair(*pairs[0], PseudonymState()).texts


def test_learn_refuses_contradictions() -> None:
    state = PseudonymState({"a" * 32: "EMAIL_1"})
    assert state.learn("b" * 32, "EMAIL_3") is True
    assert state.learn("a" * 32, "EMAIL_1") is False
    assert state.token("c" * 32, "EMAIL") == ("EMAIL_4", True)
    with pytest.raises(StateError):
        state.learn("a" * 32, "EMAIL_2")
    with pytest.raises(StateError):
        state.learn("d" * 32, "EMAIL_1")

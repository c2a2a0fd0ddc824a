"""Check-digit and validity rules, on values a person can check by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redaction import card_brand, iban_valid, luhn_valid, ssn_valid
from redaction.checksums import shannon_entropy


@pytest.mark.parametrize(
    "number",
    ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005",
     "6011111111111117", "3530111333300000", "79927398713"],
)  # fmt: skip
def test_luhn_accepts_valid_numbers(number: str) -> None:
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4111111111111112", "79927398710", "", "4111x111", "٤١١١"])
def test_luhn_rejects_invalid_numbers(number: str) -> None:
    assert not luhn_valid(number)


def _luhn_complete(prefix: str) -> str:
    for d in "0123456789":
        if luhn_valid(prefix + d):
            return prefix + d
    raise AssertionError("unreachable")


@given(st.text(alphabet="0123456789", min_size=12, max_size=18))
def test_luhn_check_digit_is_unique(prefix: str) -> None:
    full = _luhn_complete(prefix)
    assert sum(luhn_valid(prefix + d) for d in "0123456789") == 1
    assert luhn_valid(full)


@pytest.mark.parametrize(
    ("digits", "brand"),
    [("4111111111111111", "visa"), ("5500000000000004", "mastercard"),
     ("2221000000000009", "mastercard"), ("378282246310005", "amex"),
     ("6011111111111117", "discover"), ("3530111333300000", "jcb"),
     ("30569309025904", "diners"), ("1234567812345670", None), ("9999999999999995", None)],
)  # fmt: skip
def test_card_brand(digits: str, brand: str | None) -> None:
    assert card_brand(digits) == brand


@pytest.mark.parametrize(
    "iban",
    ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "FR1420041010050500013M02606",
     "NL91ABNA0417164300", "gb82west12345698765432", "CH9300762011623852957"],
)  # fmt: skip
def test_iban_accepts_valid(iban: str) -> None:
    assert iban_valid(iban)


@pytest.mark.parametrize(
    "iban",
    ["GB82 WEST 1234 5698 7654 33",  # check digits wrong
     "GB82WEST123456987654",  # too short for GB
     "XX82WEST12345698765432",  # no such country
     "DE89 3704 0044 0532 0130 00 00",  # too long
     "DE8937040044053201300!"],
)  # fmt: skip
def test_iban_rejects_invalid(iban: str) -> None:
    assert not iban_valid(iban)


@pytest.mark.parametrize("ssn", ["123-45-6789", "536-22-1234", "772 10 0001", "001010001"])
def test_ssn_accepts_issuable(ssn: str) -> None:
    assert ssn_valid(ssn)


@pytest.mark.parametrize(
    "ssn",
    ["000-12-3456", "666-12-3456", "900-12-3456", "999-99-9999", "123-00-4567", "123-45-0000",
     "078-05-1120", "219-09-9999", "12-345-6789", "1234-56-789"],
)  # fmt: skip
def test_ssn_rejects_invalid_area_group_serial(ssn: str) -> None:
    assert not ssn_valid(ssn)


def test_shannon_entropy() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)

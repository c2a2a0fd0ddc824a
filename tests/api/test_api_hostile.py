"""Hostile input to the REST API: every bad request is a 4xx JSON answer that echoes nothing
raw and carries no traceback; duplicate submissions race to one 200 and 409s."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select
from test_api_review import auth, client_for

from referee.db.engine import transaction
from referee.db.models import HumanLabel
from referee.review.tokens import add_reviewer
from tests.helpers import grant_every_dataset

SECRET_INPUT = "zz-raw-input-marker-zz"


def leased(engine: Engine) -> tuple[TestClient, str, str]:
    """A client, a reviewer's token and the pair id leased to them."""
    routed = make_routed_dataset(engine, n_review=2)
    _, token = make_reviewer(engine, "ann")
    client = client_for(engine)
    item = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token))
    assert item.status_code == 200, item.text
    return client, token, item.json()["pair_id"]


def assert_clean_4xx(resp: object, status: int) -> dict[str, object]:
    """A JSON answer of ``status`` with a one-line detail, no traceback, no raw input."""
    assert resp.status_code == status, resp.text  # type: ignore[attr-defined]
    assert resp.headers["content-type"].startswith("application/json")  # type: ignore[attr-defined]
    text = resp.text  # type: ignore[attr-defined]
    assert "Traceback" not in text and SECRET_INPUT not in text
    doc: dict[str, object] = json.loads(text)
    assert isinstance(doc["detail"], str) and "\n" not in doc["detail"]
    return doc


def post_raw(client: TestClient, url: str, token: str, body: bytes, kind: str) -> object:
    headers = {**auth(token), "Content-Type": kind}
    return client.post(url, content=body, headers=headers)


@pytest.mark.parametrize(
    ("body", "kind", "status", "said"),
    [
        (
            b"label=A&reason=" + SECRET_INPUT.encode(),
            "application/x-www-form-urlencoded",
            415,
            "JSON",
        ),
        (b'{"label": "A"}', "text/plain", 415, "Content-Type"),
        (b'{"label": "A", "duration_s": NaN}', "application/json", 400, "NaN"),
        (b'{"label": "A", "duration_s": Infinity}', "application/json", 400, "Infinity"),
        (b'{"label": "A", "duration_s": -Infinity}', "application/json", 400, "Infinity"),
        (b'{"label": "A", "duration_s": 1e999}', "application/json", 400, "1e999"),
        (b'{"label": "A", "ratings": {"x": NaN}}', "application/json", 400, "NaN"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "nested"),
        (
            b'{"label": "A", "reason": "\\ud800' + SECRET_INPUT.encode() + b'"}',
            "application/json",
            400,
            "surrogate",
        ),
        (b'{"label": "A", "\\udfff": 1}', "application/json", 400, "surrogate"),
        (
            b'{"label": "A", "reason": "' + SECRET_INPUT.encode() + b'"',
            "application/json",
            400,
            "not valid JSON",
        ),
        (b"\xff\xfe" + SECRET_INPUT.encode(), "application/json", 400, "UTF-8"),
    ],
)
def test_bad_bodies_are_4xx_json_without_echo(
    sqlite_engine: Engine, body: bytes, kind: str, status: int, said: str
) -> None:
    client, token, pair_id = leased(sqlite_engine)
    resp = post_raw(client, f"/v1/items/{pair_id}/label", token, body, kind)
    assert said in str(assert_clean_4xx(resp, status)["detail"])
    with transaction(sqlite_engine) as s:
        assert s.scalars(select(HumanLabel)).all() == []  # nothing half-written


def test_unknown_field_is_refused_naming_the_closest(sqlite_engine: Engine) -> None:
    client, token, pair_id = leased(sqlite_engine)
    resp = client.post(
        f"/v1/items/{pair_id}/label", headers=auth(token), json={"label": "A", "rationalle": "x"}
    )
    doc = assert_clean_4xx(resp, 422)
    assert "unknown field 'rationalle'; did you mean 'rationale'?" in str(doc["detail"])
    long_key = "k" * 5000  # named, but ASCII-escaped and cut short
    far = client.post(
        f"/v1/items/{pair_id}/label", headers=auth(token), json={"label": "A", long_key: 1}
    )
    detail = str(assert_clean_4xx(far, 422)["detail"])
    assert "fields are label" in detail and "k" * 41 not in detail


@pytest.mark.parametrize(
    "extra",
    [
        {"unsafe": "yes"},
        {"unsafe": 1},
        {"duration_s": "12"},
        {"duration_s": True},
        {"rationale": 5},
        {"ratings": "helpful=5"},
        {"label": ["A"]},
    ],
)
def test_loose_types_are_refused(sqlite_engine: Engine, extra: dict[str, object]) -> None:
    client, token, pair_id = leased(sqlite_engine)
    body = {"label": "A", **extra}
    resp = client.post(f"/v1/items/{pair_id}/label", headers=auth(token), json=body)
    field = next(iter(extra))
    assert field in str(assert_clean_4xx(resp, 422)["detail"])


def test_strict_body_still_takes_a_whole_number_duration(sqlite_engine: Engine) -> None:
    client, token, pair_id = leased(sqlite_engine)
    resp = client.post(
        f"/v1/items/{pair_id}/label", headers=auth(token), json={"label": "A", "duration_s": 12}
    )
    assert resp.status_code == 200, resp.text


def test_validation_errors_do_not_echo_the_input(sqlite_engine: Engine) -> None:
    client, token, pair_id = leased(sqlite_engine)
    resp = client.post(
        f"/v1/items/{pair_id}/label", headers=auth(token), json={"label": SECRET_INPUT}
    )
    doc = assert_clean_4xx(resp, 422)
    assert all(set(e) == {"field", "problem", "type"} for e in doc["errors"])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "body",
    [
        b'{"reviewer": "ann", "paused": NaN}',
        b'{"reviewer": "ann", "paused": "true"}',
        b'{"reviewer": "ann", "paused": true, "reason": NaN}',
        b'{"reviewer": "ann", "pause": true}',
    ],
)
def test_lead_pause_refuses_bad_bodies(sqlite_engine: Engine, body: bytes) -> None:
    make_routed_dataset(sqlite_engine, n_review=1)
    make_reviewer(sqlite_engine, "ann")
    with transaction(sqlite_engine) as s:
        lead, token = add_reviewer(s, "lena", role="lead")
        grant_every_dataset(s, lead)
    client = client_for(sqlite_engine)
    resp = post_raw(client, "/v1/lead/pause", token, body, "application/json")
    assert resp.status_code in (400, 422)  # type: ignore[attr-defined]
    assert_clean_4xx(resp, resp.status_code)  # type: ignore[attr-defined]


def test_unknown_route_and_method_are_json(sqlite_engine: Engine) -> None:
    client = client_for(sqlite_engine)
    assert_clean_4xx(client.get("/nowhere"), 404)
    assert_clean_4xx(client.delete("/review"), 405)


def test_six_identical_submissions_at_once_one_200_five_409(engine: Engine) -> None:
    """One reviewer sends the same label six times at once: exactly one is stored."""
    routed = make_routed_dataset(engine, n_review=1)
    _, token = make_reviewer(engine, "ann")
    client = client_for(engine)
    pair_id = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token)).json()[
        "pair_id"
    ]

    def submit(_: int) -> int:
        body = {"label": "A", "rationale": "same"}
        return client.post(f"/v1/items/{pair_id}/label", headers=auth(token), json=body).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(submit, range(6)))
    assert statuses == [200, 409, 409, 409, 409, 409]
    with transaction(engine) as s:
        assert len(s.scalars(select(HumanLabel).where(HumanLabel.pair_id == pair_id)).all()) == 1

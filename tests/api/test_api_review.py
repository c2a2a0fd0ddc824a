"""The reviewers' REST API through FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from fastapi.testclient import TestClient
from numpy.typing import NDArray
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select

from referee.api.app import create_app
from referee.db.engine import transaction
from referee.db.models import AuditEntry, HumanLabel
from referee.review import QueueConfig
from referee.settings import Settings


class OneHotEmbedder:
    name = "test-onehot"

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return np.eye(len(texts), dtype=np.float32)


def client_for(engine: Engine, **config: object) -> TestClient:
    settings = Settings(database_url=str(engine.url))
    cfg = QueueConfig(**{"gold_rate": 0.0, **config})  # type: ignore[arg-type]
    return TestClient(create_app(engine, settings, config=cfg, embedder=OneHotEmbedder()))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_missing_and_wrong_tokens_are_401(engine: Engine) -> None:
    routed = make_routed_dataset(engine, n_review=2)
    make_reviewer(engine, "ann")
    client = client_for(engine)
    for headers in ({}, auth("rvw_not-a-token"), {"Authorization": "Basic abc"}):
        for method, url in (
            ("GET", f"/v1/next?dataset={routed.name}"),
            ("GET", f"/v1/stats?dataset={routed.name}"),
            ("POST", f"/v1/items/{routed.review[0]}/label"),
            ("POST", f"/v1/items/{routed.review[0]}/release"),
        ):
            resp = client.request(method, url, headers=headers, json={"label": "A"})
            assert resp.status_code == 401, (method, url, headers, resp.text)
            assert resp.headers.get("www-authenticate") == "Bearer"
            assert "token" in resp.json()["detail"]


def test_happy_path(engine: Engine) -> None:
    routed = make_routed_dataset(engine, n_review=2)
    _, token = make_reviewer(engine, "ann")
    client = client_for(engine)
    resp = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token))
    assert resp.status_code == 200
    item = resp.json()
    assert set(item) == {"pair_id", "prompt", "response_a", "response_b", "lease_expires_at"}
    assert item["pair_id"] in routed.review
    resp = client.post(
        f"/v1/items/{item['pair_id']}/label",
        headers=auth(token),
        json={"label": "tie", "rationale": "equally good", "duration_s": 12.5},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"pair_id": item["pair_id"], "label": "tie", "stored": True}
    stats = client.get("/v1/stats", params={"dataset": routed.name}, headers=auth(token)).json()
    assert stats["queues"]["review"] == {"pending": 1, "leased": 0, "done": 1, "total": 2}
    assert stats["you"] == {"reviewer": "ann", "labeled": 1, "leased": 0}
    second = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token))
    assert second.status_code == 200 and second.json()["pair_id"] != item["pair_id"]
    assert (
        client.post(
            f"/v1/items/{second.json()['pair_id']}/release", headers=auth(token)
        ).status_code
        == 204
    )
    empty = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token))
    assert empty.status_code == 204
    with transaction(engine) as s:
        stored = s.scalar(select(HumanLabel).where(HumanLabel.pair_id == item["pair_id"]))
        actions = sorted(s.scalars(select(AuditEntry.action)))
    assert stored is not None
    assert (stored.label, stored.rationale, stored.duration_s) == ("tie", "equally good", 12.5)
    assert actions == ["review.label", "review.release", "reviewer.add"]


def test_other_reviewers_item_is_forbidden(sqlite_engine: Engine) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=2)
    _, t1 = make_reviewer(sqlite_engine, "r1")
    _, t2 = make_reviewer(sqlite_engine, "r2")
    client = client_for(sqlite_engine)
    mine = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(t1)).json()
    for url in (f"/v1/items/{mine['pair_id']}/label", f"/v1/items/{mine['pair_id']}/release"):
        resp = client.post(url, headers=auth(t2), json={"label": "A"})
        assert resp.status_code == 403
        assert "not leased to you" in resp.json()["detail"]
    ok = client.post(f"/v1/items/{mine['pair_id']}/label", headers=auth(t1), json={"label": "B"})
    assert ok.status_code == 200
    again = client.post(f"/v1/items/{mine['pair_id']}/label", headers=auth(t1), json={"label": "B"})
    assert again.status_code == 409


def test_validation_errors(sqlite_engine: Engine) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=1)
    _, token = make_reviewer(sqlite_engine, "ann")
    client = client_for(sqlite_engine)
    pid = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token)).json()[
        "pair_id"
    ]
    url = f"/v1/items/{pid}/label"
    both_bad = client.post(url, headers=auth(token), json={"label": "both_bad"})
    assert both_bad.status_code == 422
    assert both_bad.json()["detail"] == "a reason is required when the label is both_bad"
    bad_label = client.post(url, headers=auth(token), json={"label": "C"})
    assert bad_label.status_code == 422 and "label" in bad_label.json()["detail"]
    negative = client.post(url, headers=auth(token), json={"label": "A", "duration_s": -1})
    assert negative.status_code == 422
    unknown = client.get("/v1/next", params={"dataset": "nope"}, headers=auth(token))
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
    ok = client.post(url, headers=auth(token), json={"label": "both_bad", "reason": "off topic"})
    assert ok.status_code == 200


@pytest.mark.parametrize("reveal", [False, True])
def test_never_leaks_gold_or_ai_label(sqlite_engine: Engine, reveal: bool) -> None:
    routed = make_routed_dataset(
        sqlite_engine, n_review=0, n_spot=6, n_gold=6, gold_label="both_bad", ai_label="tie"
    )
    _, token = make_reviewer(sqlite_engine, "ann")
    client = client_for(sqlite_engine, gold_rate=0.5, reveal_ai_label=reveal)
    served_gold = 0
    while True:
        resp = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token))
        if resp.status_code == 204:
            break
        body = resp.json()
        text = resp.text
        assert "both_bad" not in text and "gold" not in text and "expert" not in text
        is_gold = body["pair_id"] in routed.gold
        served_gold += is_gold
        if reveal and not is_gold:
            assert body["ai_label"] == "tie"
        else:
            assert "ai_label" not in body and '"tie"' not in text
        client.post(f"/v1/items/{body['pair_id']}/label", headers=auth(token), json={"label": "A"})
    assert served_gold >= 3

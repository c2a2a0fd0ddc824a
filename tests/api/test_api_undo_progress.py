"""POST /v1/items/{pair_id}/undo and GET /v1/progress, through FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import numpy as np
from fastapi.testclient import TestClient
from numpy.typing import NDArray
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select, update

from referee.api.app import create_app
from referee.db.engine import transaction
from referee.db.models import AuditEntry, HumanLabel, Pair, ReviewAssignment, RoutingDecision
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


def labels(engine: Engine) -> list[tuple[str, str, str]]:
    with transaction(engine) as s:
        rows = s.execute(
            select(HumanLabel.pair_id, HumanLabel.annotator, HumanLabel.label).where(
                HumanLabel.kind != "gold"
            )
        ).all()
    return sorted((p, a, lab) for p, a, lab in rows)


def test_undo_deletes_the_label_and_reopens_the_same_lease(engine: Engine) -> None:
    routed = make_routed_dataset(engine, n_review=3)
    _, token = make_reviewer(engine, "ann")
    client = client_for(engine)
    item = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token)).json()
    pid = item["pair_id"]
    assert client.post(
        f"/v1/items/{pid}/label", headers=auth(token), json={"label": "A"}
    ).is_success
    assert labels(engine) == [(pid, "ann", "A")]

    resp = client.post(f"/v1/items/{pid}/undo", headers=auth(token))
    assert resp.status_code == 200, resp.text
    assert resp.json() == item  # same item, same lease end: undo never extends a lease
    assert labels(engine) == []
    with transaction(engine) as s:
        assignment = s.scalars(
            select(ReviewAssignment).where(ReviewAssignment.pair_id == pid)
        ).one()
        assert assignment.completed_at is None
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "review.undo")).one()
        assert audit.actor == "ann" and audit.entity_id == pid
        assert audit.detail["removed_label"] == "A"
    # the reopened lease is the one /v1/next hands back, and it can be answered again
    again = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token)).json()
    assert again["pair_id"] == pid
    assert client.post(
        f"/v1/items/{pid}/label", headers=auth(token), json={"label": "both_bad", "reason": "off"}
    ).is_success
    assert labels(engine) == [(pid, "ann", "both_bad")]


def test_undo_is_refused_when_it_cannot_apply(engine: Engine) -> None:
    routed = make_routed_dataset(engine, n_review=3)
    _, ann = make_reviewer(engine, "ann")
    _, bob = make_reviewer(engine, "bob")
    client = client_for(engine)
    item = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(ann)).json()
    pid = item["pair_id"]

    unanswered = client.post(f"/v1/items/{pid}/undo", headers=auth(ann))
    assert unanswered.status_code == 409 and "not labeled" in unanswered.json()["detail"]
    assert client.post(f"/v1/items/{pid}/undo", headers=auth("rvw_wrong")).status_code == 401
    assert client.post("/v1/items/no-such-pair/undo", headers=auth(ann)).status_code == 404

    assert client.post(f"/v1/items/{pid}/label", headers=auth(ann), json={"label": "B"}).is_success
    # another reviewer cannot take ann's answer back
    assert client.post(f"/v1/items/{pid}/undo", headers=auth(bob)).status_code == 403
    # once the lease is over, the answer is final
    with transaction(engine) as s:
        s.execute(
            update(ReviewAssignment)
            .where(ReviewAssignment.pair_id == pid)
            .values(lease_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = client.post(f"/v1/items/{pid}/undo", headers=auth(ann))
    assert expired.status_code == 409 and "expired" in expired.json()["detail"]
    assert labels(engine) == [(pid, "ann", "B")]


def test_undo_of_a_hidden_gold_check_looks_like_any_other(engine: Engine) -> None:
    routed = make_routed_dataset(engine, n_review=4, n_gold=4)
    _, token = make_reviewer(engine, "ann")
    client = client_for(engine, gold_rate=0.5)
    kinds = set()
    for _ in range(4):
        item = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token)).json()
        pid = item["pair_id"]
        kinds.add(pid in routed.gold)
        assert client.post(
            f"/v1/items/{pid}/label", headers=auth(token), json={"label": "A"}
        ).is_success
        undone = client.post(f"/v1/items/{pid}/undo", headers=auth(token))
        assert undone.status_code == 200 and undone.json() == item
        assert set(undone.json()) == {
            "pair_id",
            "prompt",
            "response_a",
            "response_b",
            "lease_expires_at",
        }
        assert client.post(
            f"/v1/items/{pid}/label", headers=auth(token), json={"label": "B"}
        ).is_success
    assert kinds == {True, False}  # both kinds were served and undone the same way


def test_undo_with_a_pair_id_holding_url_characters(engine: Engine) -> None:
    routed = make_routed_dataset(engine, n_review=1)
    odd = "odd/id?x=1#frag 100%"
    with transaction(engine) as s:
        pair = s.get_one(Pair, routed.review[0])
        s.add(
            Pair(
                id=odd,
                dataset_id=pair.dataset_id,
                prompt="p",
                response_a="a",
                response_b="b",
                meta={},
                content_hash="odd",
            )
        )
    with transaction(engine) as s:
        decision = s.scalars(select(RoutingDecision)).first()
        assert decision is not None
        s.add(
            RoutingDecision(
                pair_id=odd,
                policy_id=decision.policy_id,
                decision="human_review",
                source="human",
                reasons=[],
                confidence=0.0,
            )
        )
    _, token = make_reviewer(engine, "ann")
    client = client_for(engine)
    item = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token)).json()
    assert item["pair_id"] == odd  # least confident first
    path = f"/v1/items/{quote(odd, safe='')}"
    assert client.post(f"{path}/label", headers=auth(token), json={"label": "A"}).is_success
    resp = client.post(f"{path}/undo", headers=auth(token))
    assert resp.status_code == 200, resp.text
    assert resp.json()["pair_id"] == odd
    assert labels(engine) == []


def test_progress_counts_today_all_and_remaining(engine: Engine) -> None:
    routed = make_routed_dataset(engine, n_review=5)
    _, token = make_reviewer(engine, "ann")
    client = client_for(engine)

    def progress() -> dict[str, object]:
        resp = client.get("/v1/progress", params={"dataset": routed.name}, headers=auth(token))
        assert resp.status_code == 200, resp.text
        body: dict[str, object] = resp.json()
        return body

    first = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token))
    assert first.status_code == 200  # the queue is built on the first lease (or at server start)
    assert progress() == {"dataset": routed.name, "done_today": 0, "done": 0, "remaining": 4}
    done = []
    for _ in range(2):
        pid = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token)).json()[
            "pair_id"
        ]
        client.post(f"/v1/items/{pid}/label", headers=auth(token), json={"label": "tie"})
        done.append(pid)
    assert progress() == {"dataset": routed.name, "done_today": 2, "done": 2, "remaining": 3}
    with transaction(engine) as s:  # one of them was answered yesterday
        s.execute(
            update(ReviewAssignment)
            .where(ReviewAssignment.pair_id == done[0])
            .values(completed_at=datetime.now(UTC) - timedelta(days=1, hours=1))
        )
    assert progress() == {"dataset": routed.name, "done_today": 1, "done": 2, "remaining": 3}
    assert (
        client.get("/v1/progress", params={"dataset": "nope"}, headers=auth(token)).status_code
        == 404
    )
    assert client.get("/v1/progress", params={"dataset": routed.name}).status_code == 401


def test_pages_are_served_with_their_assets(engine: Engine) -> None:
    client = client_for(engine)
    for path, media in (
        ("/", "text/html"),
        ("/review", "text/html"),
        ("/lead", "text/html"),
        ("/static/review.js", "text/javascript"),
        ("/static/markdown.js", "text/javascript"),
        ("/static/diff.js", "text/javascript"),
        ("/static/review.css", "text/css"),
    ):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["content-type"].startswith(media), path
        assert "script-src 'self'" in resp.headers["content-security-policy"]
    for bad in (
        "/static/review.html.bak",
        "/static/.hidden.js",
        "/static/%2e%2e%2fapp.py",
        "/static/x.py",
    ):
        assert client.get(bad).status_code == 404, bad

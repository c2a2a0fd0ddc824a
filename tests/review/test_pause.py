"""The pause rule in service: a saboteur is paused and told why; the careful one is not; a
lead unpauses (and pauses) through the CLI; every step is audited."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select

from referee.api.app import create_app
from referee.db.engine import transaction
from referee.db.models import AuditEntry, Reviewer
from referee.review import QueueConfig
from referee.settings import Settings
from tests.helpers import run_cli


def _client(engine: Engine) -> TestClient:
    settings = Settings(database_url=str(engine.url))
    config = QueueConfig(gold_rate=0.5, review_k=2)
    return TestClient(create_app(engine, settings, config=config))


def _work(client: TestClient, token: str, dataset: str, gold: dict[str, str], honest: bool):  # type: ignore[no-untyped-def]
    """Answer until the queue is empty (204) or the reviewer is refused; returns the last
    response and the number of answers."""
    headers = {"Authorization": f"Bearer {token}"}
    answered = 0
    while True:
        resp = client.get("/v1/next", params={"dataset": dataset}, headers=headers)
        if resp.status_code != 200:
            return resp, answered
        pair_id = resp.json()["pair_id"]
        right = gold.get(pair_id, "A")
        label = right if honest else ("A" if right == "B" else "B")
        done = client.post(f"/v1/items/{pair_id}/label", json={"label": label}, headers=headers)
        assert done.status_code == 200, done.text
        answered += 1


def test_saboteur_is_paused_careful_is_not_and_a_lead_unpauses(
    sqlite_engine: Engine, sqlite_url: str
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=20, n_gold=10, gold_label="B")
    _, careful = make_reviewer(sqlite_engine, "careful")
    _, saboteur = make_reviewer(sqlite_engine, "saboteur")
    client = _client(sqlite_engine)

    refused, answered = _work(client, saboteur, routed.name, routed.gold, honest=False)
    assert refused.status_code == 403
    detail = refused.json()["detail"]
    assert detail.startswith("paused: gold accuracy 0/")
    assert "referee reviewers unpause saboteur" in detail
    assert answered < 20  # stopped long before the end of the queue

    empty, done = _work(client, careful, routed.name, routed.gold, honest=True)
    assert empty.status_code == 204 and done >= 20  # every item, never paused

    with transaction(sqlite_engine) as s:
        pauses = s.scalars(select(AuditEntry).where(AuditEntry.action == "reviewer.pause")).all()
        assert [(a.actor, a.detail["name"]) for a in pauses] == [("rule:pause", "saboteur")]
        assert not s.scalar(select(Reviewer).where(Reviewer.name == "careful")).paused  # type: ignore[union-attr]
    listed = {
        r["name"]: r for r in json.loads(run_cli(sqlite_url, "reviewers", "list", "--json").stdout)
    }
    assert listed["saboteur"]["paused"] and "gold accuracy" in listed["saboteur"]["paused_reason"]
    assert not listed["careful"]["paused"]

    # a lead unpauses: served again, and the old evidence no longer counts
    assert run_cli(sqlite_url, "reviewers", "unpause", "saboteur").exit_code == 0
    headers = {"Authorization": f"Bearer {saboteur}"}
    again = client.get("/v1/next", params={"dataset": routed.name}, headers=headers)
    assert again.status_code == 200, again.text
    pair_id = again.json()["pair_id"]
    wrong = "A" if routed.gold.get(pair_id, "A") == "B" else "B"
    answer = client.post(f"/v1/items/{pair_id}/label", json={"label": wrong}, headers=headers)
    assert answer.status_code == 200
    still = client.get("/v1/next", params={"dataset": routed.name}, headers=headers)
    assert still.status_code in (200, 204), still.text  # one new answer is no evidence yet
    # a lead pauses someone by hand, with a reason the reviewer sees
    result = run_cli(sqlite_url, "reviewers", "pause", "careful", "--reason", "retraining")
    assert result.exit_code == 0
    headers = {"Authorization": f"Bearer {careful}"}
    paused = client.get("/v1/next", params={"dataset": routed.name}, headers=headers)
    assert paused.status_code == 403 and paused.json()["detail"].startswith("paused: retraining")
    with transaction(sqlite_engine) as s:
        actions = [
            (a.action, a.actor, a.detail["name"])
            for a in s.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.in_(("reviewer.pause", "reviewer.unpause")))
                .order_by(AuditEntry.id)
            )
        ]
    assert actions == [
        ("reviewer.pause", "rule:pause", "saboteur"),
        ("reviewer.unpause", "cli", "saboteur"),
        ("reviewer.pause", "cli", "careful"),
    ]
    assert run_cli(sqlite_url, "reviewers", "unpause", "nobody").exit_code == 2

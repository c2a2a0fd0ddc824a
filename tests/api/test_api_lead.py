"""The lead's views: role-gated, and their figures match the CLI's estimators."""

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
from referee.db.models import AuditEntry, Reviewer
from referee.db.routing import spot_check_accuracy
from referee.reports.human_agreement import agreement_report, load_human_labels
from referee.review import QueueConfig
from referee.review.errors import InvalidSubmission
from referee.review.tokens import add_reviewer
from referee.settings import Settings
from tests.helpers import grant_every_dataset, run_cli


class OneHotEmbedder:
    name = "test-onehot"

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return np.eye(len(texts), dtype=np.float32)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_lead(engine: Engine, name: str = "lena") -> str:
    with transaction(engine) as s:
        lead, token = add_reviewer(s, name, role="lead")
        grant_every_dataset(s, lead)
    return token


def answer_all(client: TestClient, dataset: str, token: str, label_of: dict[str, str]) -> int:
    n = 0
    while True:
        resp = client.get("/v1/next", params={"dataset": dataset}, headers=auth(token))
        if resp.status_code == 204:
            return n
        pid = resp.json()["pair_id"]
        body = {"label": label_of.get(pid, "A")}
        assert client.post(f"/v1/items/{pid}/label", headers=auth(token), json=body).is_success
        n += 1


def test_lead_views_need_a_lead_token(engine: Engine) -> None:
    routed = make_routed_dataset(engine, n_review=2)
    _, reviewer_token = make_reviewer(engine, "ann")
    lead_token = make_lead(engine)
    settings = Settings(database_url=str(engine.url))
    client = TestClient(create_app(engine, settings, config=QueueConfig(gold_rate=0.0)))
    for path in ("/v1/lead/datasets", f"/v1/lead/overview?dataset={routed.name}"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=auth("rvw_wrong")).status_code == 401
        refused = client.get(path, headers=auth(reviewer_token))
        assert refused.status_code == 403 and "lead token" in refused.json()["detail"]
        assert client.get(path, headers=auth(lead_token)).status_code == 200
    assert client.get("/v1/lead/datasets", headers=auth(lead_token)).json() == {"datasets": ["ds"]}
    assert client.get("/v1/lead/overview?dataset=nope", headers=auth(lead_token)).status_code == 404


def test_overview_figures(engine: Engine) -> None:
    routed = make_routed_dataset(
        engine, n_review=6, n_spot=4, n_gold=4, gold_label="B", ai_label="A"
    )
    _, ann = make_reviewer(engine, "ann")
    _, bob = make_reviewer(engine, "bob")
    lead = make_lead(engine)
    settings = Settings(database_url=str(engine.url))
    config = QueueConfig(gold_rate=0.25, review_k=2)
    client = TestClient(create_app(engine, settings, config=config, embedder=OneHotEmbedder()))
    # ann answers B everywhere (right on gold), bob A everywhere (wrong on gold)
    answered_ann = answer_all(
        client, routed.name, ann, {p: "B" for p in routed.review + list(routed.gold) + routed.spot}
    )
    answered_bob = answer_all(client, routed.name, bob, {})
    doc = client.get(f"/v1/lead/overview?dataset={routed.name}", headers=auth(lead)).json()

    assert doc["dataset"] == routed.name
    assert doc["queues"]["review"]["done"] == 6 and doc["queues"]["review"]["pending"] == 0
    assert doc["gold_checks"]["served"] == doc["gold_checks"]["answered"] > 0
    people = {r["name"]: r for r in doc["reviewers"]}
    assert set(people) == {"ann", "bob"}  # the lead never reviewed here
    assert people["ann"]["labeled"] == answered_ann and people["bob"]["labeled"] == answered_bob
    assert people["ann"]["labeled_today"] == answered_ann
    assert people["ann"]["gold_checks"] > 0 and people["ann"]["gold_accuracy"] == 1.0
    assert people["bob"]["gold_checks"] > 0 and people["bob"]["gold_accuracy"] == 0.0
    assert people["ann"]["gold_trend"] == [1.0] * people["ann"]["gold_checks"]
    assert people["bob"]["gold_trend"] == [0.0] * people["bob"]["gold_checks"]
    with transaction(engine) as s:
        expected_agreement = agreement_report(
            load_human_labels(s, routed.dataset_id, ["review", "spot_check"]),
            n_resamples=200,
            seed=0,
        )
        expected_spot = spot_check_accuracy(s, routed.dataset_id).to_json()
    assert doc["agreement"]["krippendorff_alpha"] == pytest.approx(
        expected_agreement["krippendorff_alpha"]
    )
    assert doc["agreement"]["comparable_items"] == expected_agreement["comparable_items"] > 0
    assert doc["agreement"]["ci"]["krippendorff_alpha"]["low"] is not None
    assert doc["spot_check"] == expected_spot
    assert doc["spot_check"]["n"] == 4  # ann answered each spot check (k=1 there)


def test_reviewers_add_role_lead(sqlite_engine: Engine) -> None:
    url = str(sqlite_engine.url)
    result = run_cli(url, "reviewers", "add", "lena", "--role", "lead")
    assert result.exit_code == 0, result.output
    assert "Lead 'lena' created" in result.output
    assert run_cli(url, "reviewers", "add", "ann").exit_code == 0
    bad = run_cli(url, "reviewers", "add", "x", "--role", "boss")
    assert bad.exit_code == 2 and "role must be one of reviewer, lead" in bad.output
    with transaction(sqlite_engine) as s:
        roles = {name: role for name, role in s.execute(select(Reviewer.name, Reviewer.role))}
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "reviewer.add")).all()
    assert roles == {"lena": "lead", "ann": "reviewer"}
    assert sorted(a.detail["role"] for a in audit) == ["lead", "reviewer"]
    with transaction(sqlite_engine) as s, pytest.raises(InvalidSubmission):
        add_reviewer(s, "y", role="admin")


def test_lead_pause_endpoint(engine: Engine) -> None:
    routed = make_routed_dataset(engine, n_review=2)
    _, ann = make_reviewer(engine, "ann")
    lead = make_lead(engine)
    settings = Settings(database_url=str(engine.url))
    client = TestClient(create_app(engine, settings, config=QueueConfig(gold_rate=0.0)))
    body = {"reviewer": "ann", "paused": True, "reason": "too fast"}
    assert client.post("/v1/lead/pause", json=body, headers=auth(ann)).status_code == 403
    assert client.post("/v1/lead/pause", json=body).status_code == 401
    assert (
        client.post("/v1/lead/pause", json={"reviewer": "ann"}, headers=auth(lead)).status_code
        == 422
    )
    unknown = client.post("/v1/lead/pause", json={**body, "reviewer": "zed"}, headers=auth(lead))
    assert unknown.status_code == 404
    done = client.post("/v1/lead/pause", json=body, headers=auth(lead))
    assert done.json() == {"reviewer": "ann", "paused": True, "changed": True}
    again = client.post("/v1/lead/pause", json=body, headers=auth(lead))
    assert again.json()["changed"] is False
    with transaction(engine) as s:
        reviewer = s.scalars(select(Reviewer).where(Reviewer.name == "ann")).one()
        assert reviewer.paused and reviewer.paused_reason == "too fast"
    nxt = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(ann))
    assert nxt.status_code == 403
    off = client.post(
        "/v1/lead/pause", json={"reviewer": "ann", "paused": False}, headers=auth(lead)
    )
    assert off.json() == {"reviewer": "ann", "paused": False, "changed": True}
    assert (
        client.get("/v1/next", params={"dataset": routed.name}, headers=auth(ann)).status_code
        == 200
    )

"""The annotation schema through the API: GET /v1/review-config, strength and ratings on labels
(validated against the dataset's schema), and what ``labels final`` and exports carry."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from fastapi.testclient import TestClient
from numpy.typing import NDArray
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select

from referee.api.app import create_app
from referee.db.engine import transaction
from referee.db.models import Dataset, HumanLabel, Judgment
from referee.export.build import labeled_pairs
from referee.review import QueueConfig
from referee.review.schema import DEFAULT_GUIDELINES, set_schema
from referee.review.tokens import add_reviewer
from referee.settings import Settings
from tests.helpers import grant_every_dataset


class OneHotEmbedder:
    name = "test-onehot"

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return np.eye(len(texts), dtype=np.float32)


def client_for(engine: Engine, human_cost: float = 1.0, **config: object) -> TestClient:
    settings = Settings(database_url=str(engine.url), human_cost=human_cost)
    cfg = QueueConfig(**{"gold_rate": 0.0, "pause_rule": None, **config})  # type: ignore[arg-type]
    return TestClient(create_app(engine, settings, config=cfg, embedder=OneHotEmbedder()))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def configure(engine: Engine, name: str, **fields: object) -> None:
    with transaction(engine) as s:
        set_schema(s, name, **fields)  # type: ignore[arg-type]


def lease(client, name: str, token: str) -> str:  # type: ignore[no-untyped-def]
    resp = client.get("/v1/next", params={"dataset": name}, headers=auth(token))
    assert resp.status_code == 200, resp.text
    return str(resp.json()["pair_id"])


def test_review_config_endpoint_defaults_and_versions(sqlite_engine: Engine) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=1)
    _, token = make_reviewer(sqlite_engine, "ann")
    client = client_for(sqlite_engine)
    url = "/v1/review-config"
    assert client.get(url, params={"dataset": routed.name}).status_code == 401
    missing = client.get(url, params={"dataset": "nope"}, headers=auth(token))
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    doc = client.get(url, params={"dataset": routed.name}, headers=auth(token)).json()
    assert doc["scale"] == 3 and doc["dimensions"] == [] and doc["require_rationale"] == "never"
    assert doc["guidelines"] == DEFAULT_GUIDELINES and doc["version"] == 1
    assert doc["rubric_version"] == "v1" and len(doc["sha256"]) == 64

    configure(sqlite_engine, routed.name, scale=5, dimensions=("helpfulness", "safety"))
    configure(sqlite_engine, routed.name, scale=5)  # no change: same version
    configure(sqlite_engine, routed.name, guidelines="# New rules\nBe strict.")
    doc = client.get(url, params={"dataset": routed.name}, headers=auth(token)).json()
    assert doc["scale"] == 5 and doc["dimensions"] == ["helpfulness", "safety"]
    assert doc["version"] == 3 and doc["rubric_version"] == "v3"
    assert doc["guidelines"].startswith("# New rules")


def test_label_schema_is_validated_with_clear_422s(sqlite_engine: Engine) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=2)
    configure(
        sqlite_engine,
        routed.name,
        scale=5,
        dimensions=("helpfulness", "safety"),
        require_rationale="always",
    )
    _, token = make_reviewer(sqlite_engine, "ann")
    client = client_for(sqlite_engine)
    pid = lease(client, routed.name, token)
    url = f"/v1/items/{pid}/label"
    good = {
        "label": "A",
        "strength": "much",
        "ratings": {"helpfulness": 4, "safety": 5},
        "rationale": "A answers the question",
    }

    def refused(body: dict[str, object]) -> str:
        resp = client.post(url, headers=auth(token), json=body)
        assert resp.status_code == 422, resp.text
        return str(resp.json()["detail"])

    assert "requires a rationale" in refused({**good, "rationale": "  "})
    assert "unknown rating dimension 'style'" in refused(
        {**good, "ratings": {**good["ratings"], "style": 3}}  # type: ignore[dict-item]
    )
    assert "from 1 to 5" in refused({**good, "ratings": {"helpfulness": 6, "safety": 5}})
    assert "from 1 to 5" in refused({**good, "ratings": {"helpfulness": 0, "safety": 5}})
    assert "from 1 to 5" in refused({**good, "ratings": {"helpfulness": 2.5, "safety": 5}})
    assert "needs a rating of 'safety'" in refused({**good, "ratings": {"helpfulness": 3}})
    assert "needs a strength" in refused({k: v for k, v in good.items() if k != "strength"})
    assert "strength" in refused({**good, "strength": "huge"})
    assert "has no strength" in refused({**good, "label": "tie"})
    with transaction(sqlite_engine) as s:
        assert s.scalars(select(HumanLabel)).all() == []  # nothing stored by a refusal

    ok = client.post(url, headers=auth(token), json=good)
    assert ok.status_code == 200, ok.text
    with transaction(sqlite_engine) as s:
        row = s.scalars(select(HumanLabel)).one()
        assert (row.label, row.strength, row.ratings, row.rubric_version) == (
            "A",
            "much",
            {"helpfulness": 4, "safety": 5},
            "v2",
        )


def test_three_point_dataset_refuses_strength_and_keeps_old_clients_working(
    sqlite_engine: Engine,
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=2)
    _, token = make_reviewer(sqlite_engine, "ann")
    client = client_for(sqlite_engine)
    pid = lease(client, routed.name, token)
    bad = client.post(
        f"/v1/items/{pid}/label", headers=auth(token), json={"label": "A", "strength": "much"}
    )
    assert bad.status_code == 422 and "3-point scale" in bad.json()["detail"]
    unknown = client.post(
        f"/v1/items/{pid}/label", headers=auth(token), json={"label": "A", "ratings": {"x": 3}}
    )
    assert unknown.status_code == 422 and "unknown rating dimension 'x'" in unknown.text
    plain = client.post(f"/v1/items/{pid}/label", headers=auth(token), json={"label": "B"})
    assert plain.status_code == 200
    with transaction(sqlite_engine) as s:
        row = s.scalars(select(HumanLabel)).one()
        assert (row.strength, row.ratings, row.rubric_version) == (None, None, "v1")


def test_both_bad_rationale_rule(sqlite_engine: Engine) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=2)
    configure(sqlite_engine, routed.name, require_rationale="both_bad")
    _, token = make_reviewer(sqlite_engine, "ann")
    client = client_for(sqlite_engine)
    pid = lease(client, routed.name, token)
    url = f"/v1/items/{pid}/label"
    resp = client.post(url, headers=auth(token), json={"label": "both_bad", "reason": "wrong"})
    assert resp.status_code == 422 and "rationale with a both_bad answer" in resp.text
    assert client.post(url, headers=auth(token), json={"label": "A"}).status_code == 200


def test_final_labels_and_export_carry_strength_ratings_and_rubric(sqlite_engine: Engine) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=1)
    configure(sqlite_engine, routed.name, scale=5, dimensions=("helpfulness",))
    tokens = [make_reviewer(sqlite_engine, n)[1] for n in ("r1", "r2", "r3")]
    client = client_for(sqlite_engine, review_k=3)
    answers = [
        {"label": "A", "strength": "much", "ratings": {"helpfulness": 5}},
        {"label": "A", "strength": "much", "ratings": {"helpfulness": 4}},
        {"label": "B", "strength": "slight", "ratings": {"helpfulness": 1}},
    ]
    for token, body in zip(tokens, answers, strict=True):
        pid = lease(client, routed.name, token)
        assert client.post(f"/v1/items/{pid}/label", headers=auth(token), json=body).is_success
    with transaction(sqlite_engine) as s:
        ds = s.scalars(select(Dataset).where(Dataset.name == routed.name)).one()
        (row,) = list(labeled_pairs(s, ds))
    assert (row.label, row.source) == ("A", "human")
    assert row.strength == "much"  # the majority's strength
    assert row.ratings == {"helpfulness": 5}  # mean of the deciding answers' 5 and 4, rounded up
    assert row.rubric_version == "v2"
    doc = row.to_json()
    assert doc["strength"] == "much"
    assert doc["ratings"] == [{"dimension": "helpfulness", "score": 5}]  # type-stable form
    assert [a.get("strength") for a in doc["answers"]] == ["much", "much", "slight"]
    assert all(a["rubric_version"] == "v2" for a in doc["answers"])


def test_lead_overview_reports_cost_so_far_and_bias(sqlite_engine: Engine) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=2)
    with transaction(sqlite_engine) as s:
        for i, pid in enumerate(routed.review):
            s.add(Judgment(pair_id=pid, judge="j", order="AB", prompt_version="p", cost=0.25 * i))
    _, token = make_reviewer(sqlite_engine, "ann")
    with transaction(sqlite_engine) as s:
        boss, lead_token = add_reviewer(s, "boss", role="lead")
        grant_every_dataset(s, boss)
    client = client_for(sqlite_engine, human_cost=2.5)
    pid = lease(client, routed.name, token)
    assert client.post(f"/v1/items/{pid}/label", headers=auth(token), json={"label": "A"})
    doc = client.get(
        "/v1/lead/overview", params={"dataset": routed.name}, headers=auth(lead_token)
    ).json()
    assert doc["cost"] == {
        "judge_spend": 0.25,
        "human_labels": 1,
        "human_labels_by_kind": {"review": 1, "spot_check": 0, "gold": 0},
        "human_cost": 2.5,
        "human_spend": 2.5,
        "total": 2.75,
    }
    ann = next(r for r in doc["reviewers"] if r["name"] == "ann")
    assert ann["bias"]["hidden"] == 0 and ann["bias"]["flagged"] is False  # no AI label here

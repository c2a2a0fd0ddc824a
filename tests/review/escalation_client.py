"""API helpers for the escalation tests: a client, reviewers with roles, lease and answer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from fastapi.testclient import TestClient
from numpy.typing import NDArray
from review_factory import Routed
from sqlalchemy import Engine

from referee.api.app import create_app
from referee.db.engine import transaction
from referee.review import QueueConfig
from referee.review.tokens import add_reviewer
from referee.settings import Settings
from tests.helpers import grant_every_dataset


class OneHotEmbedder:
    name = "test-onehot"

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return np.eye(len(texts), dtype=np.float32)


def client_for(engine: Engine) -> TestClient:
    settings = Settings(database_url=str(engine.url))
    config = QueueConfig(gold_rate=0.0, pause_rule=None)
    return TestClient(create_app(engine, settings, config=config, embedder=OneHotEmbedder()))


def person(engine: Engine, name: str, role: str = "reviewer") -> dict[str, str]:
    with transaction(engine) as s:
        reviewer, token = add_reviewer(s, name, role=role)
        grant_every_dataset(s, reviewer)
    return {"Authorization": f"Bearer {token}"}


def next_item(client: TestClient, routed: Routed, who: dict[str, str]) -> str | None:
    resp = client.get("/v1/next", params={"dataset": routed.name}, headers=who)
    if resp.status_code == 204:
        return None
    assert resp.status_code == 200, resp.text
    pair_id: str = resp.json()["pair_id"]
    return pair_id


def answer(client: TestClient, who: dict[str, str], pair_id: str, label: str) -> None:
    resp = client.post(f"/v1/items/{pair_id}/label", headers=who, json={"label": label})
    assert resp.status_code == 200, resp.text

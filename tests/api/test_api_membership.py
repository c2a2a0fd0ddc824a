"""Dataset membership: a token opens only its datasets; the rest look like no dataset at all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from review_factory import make_routed_dataset
from sqlalchemy import Engine, select
from test_api_review import auth, client_for

from referee.db.engine import alembic_config, ensure_schema, make_engine, transaction
from referee.db.models import DatasetMember, HumanLabel, ReviewAssignment, Reviewer
from referee.review.tokens import add_reviewer
from tests.helpers import run_cli


def person(engine: Engine, name: str, role: str = "reviewer") -> str:
    with transaction(engine) as s:
        return add_reviewer(s, name, role=role)[1]


def grant(engine: Engine, name: str, *datasets: str) -> None:
    args = [a for d in datasets for a in ("--dataset", d)]
    result = run_cli(str(engine.url), "reviewers", "grant", name, *args)
    assert result.exit_code == 0, result.output


def test_forbidden_and_unknown_datasets_are_the_same_404(engine: Engine) -> None:
    make_routed_dataset(engine, "public", n_review=2)
    make_routed_dataset(engine, "frozen-eval-pii", n_review=2)
    token = person(engine, "ann")
    grant(engine, "ann", "public")
    client = client_for(engine)
    answers = {}
    for name in ("frozen-eval-pii", "no-such-dataset"):
        for path in ("/v1/next", "/v1/stats", "/v1/progress", "/v1/review-config"):
            resp = client.get(path, params={"dataset": name}, headers=auth(token))
            assert resp.status_code == 404, (path, name, resp.text)
            detail = resp.json()["detail"]
            assert "public" not in detail  # no list of the datasets there are
            answers.setdefault(path, set()).add(detail.replace(name, "NAME"))
    assert all(len(details) == 1 for details in answers.values())  # indistinguishable
    ok = client.get("/v1/next", params={"dataset": "public"}, headers=auth(token))
    assert ok.status_code == 200
    assert client.get("/v1/datasets", headers=auth(token)).json() == {"datasets": ["public"]}


def test_revoke_closes_the_dataset_even_for_a_held_lease(sqlite_engine: Engine) -> None:
    make_routed_dataset(sqlite_engine, "ds", n_review=2)
    token = person(sqlite_engine, "ann")
    grant(sqlite_engine, "ann", "ds")
    client = client_for(sqlite_engine)
    pair_id = client.get("/v1/next", params={"dataset": "ds"}, headers=auth(token)).json()[
        "pair_id"
    ]
    assert (
        run_cli(str(sqlite_engine.url), "reviewers", "revoke", "ann", "--dataset", "ds").exit_code
        == 0
    )
    for action in ("label", "release", "undo"):
        resp = client.post(
            f"/v1/items/{pair_id}/{action}", headers=auth(token), json={"label": "A"}
        )
        assert resp.status_code == 404, (action, resp.text)
    assert client.get("/v1/next", params={"dataset": "ds"}, headers=auth(token)).status_code == 404
    with transaction(sqlite_engine) as s:
        assert s.scalars(select(HumanLabel)).all() == []


def test_leads_see_and_open_only_their_datasets(sqlite_engine: Engine) -> None:
    make_routed_dataset(sqlite_engine, "mine", n_review=1)
    make_routed_dataset(sqlite_engine, "theirs", n_review=1)
    lead = person(sqlite_engine, "lena", role="lead")
    person(sqlite_engine, "outsider")
    person(sqlite_engine, "ann")
    grant(sqlite_engine, "lena", "mine")
    grant(sqlite_engine, "ann", "mine")
    grant(sqlite_engine, "outsider", "theirs")
    client = client_for(sqlite_engine)
    assert client.get("/v1/lead/datasets", headers=auth(lead)).json() == {"datasets": ["mine"]}
    assert client.get("/v1/lead/overview?dataset=mine", headers=auth(lead)).status_code == 200
    hidden = client.get("/v1/lead/overview?dataset=theirs", headers=auth(lead))
    assert hidden.status_code == 404 and "mine" not in hidden.json()["detail"]
    pause = client.post(
        "/v1/lead/pause", headers=auth(lead), json={"reviewer": "outsider", "paused": True}
    )
    assert pause.status_code == 404
    shared = client.post(
        "/v1/lead/pause", headers=auth(lead), json={"reviewer": "ann", "paused": True}
    )
    assert shared.status_code == 200 and shared.json()["changed"] is True


def test_reviewers_add_with_datasets(sqlite_engine: Engine) -> None:
    make_routed_dataset(sqlite_engine, "a", n_review=1)
    url = str(sqlite_engine.url)
    added = run_cli(url, "reviewers", "add", "ann", "--dataset", "a")
    assert added.exit_code == 0, added.output
    token = added.stdout.strip().splitlines()[-1]
    client = client_for(sqlite_engine)
    assert client.get("/v1/datasets", headers=auth(token)).json() == {"datasets": ["a"]}
    refused = run_cli(url, "reviewers", "add", "bob", "--dataset", "zzz")
    assert refused.exit_code == 2
    assert "bob" not in run_cli(url, "reviewers", "list").stdout  # nothing half-written


def test_cli_grant_revoke_list(sqlite_engine: Engine) -> None:
    make_routed_dataset(sqlite_engine, "a", n_review=1)
    make_routed_dataset(sqlite_engine, "b", n_review=1)
    person(sqlite_engine, "ann")
    url = str(sqlite_engine.url)
    grant(sqlite_engine, "ann", "a", "b")
    again = run_cli(url, "reviewers", "grant", "ann", "--dataset", "a")
    assert again.exit_code == 0 and "already" in again.output
    listed = json.loads(run_cli(url, "reviewers", "list", "--json").stdout)
    assert listed[0]["datasets"] == ["a", "b"]
    assert run_cli(url, "reviewers", "revoke", "ann", "--dataset", "a").exit_code == 0
    listed = json.loads(run_cli(url, "reviewers", "list", "--json").stdout)
    assert listed[0]["datasets"] == ["b"]
    unknown = run_cli(url, "reviewers", "grant", "ann", "--dataset", "zzz")
    assert unknown.exit_code == 2 and "zzz" in unknown.output
    nobody = run_cli(url, "reviewers", "grant", "bob", "--dataset", "a")
    assert nobody.exit_code == 2 and "bob" in nobody.output


@pytest.fixture
def at_0010(sqlite_url: str) -> Iterator[Engine]:
    """A database at head; the test fills it, then :func:`back_to_0010` takes it back.

    Filling it at head lets the ORM helpers write rows whatever columns later revisions add
    (0012 added some to ``pairs``); downgrading then leaves exactly the 0010 schema with data.
    """
    engine = make_engine(sqlite_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()


def back_to_0010(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "0010")


def test_migration_keeps_what_each_reviewer_answered(at_0010: Engine) -> None:
    """Before 0011 every token opened every dataset; after it, each keeps what they answered,
    and leads keep every dataset."""
    routed = make_routed_dataset(at_0010, "answered", n_review=2)
    make_routed_dataset(at_0010, "untouched", n_review=2)
    with transaction(at_0010) as s:
        ann, _ = add_reviewer(s, "ann")
        bob, _ = add_reviewer(s, "bob")
        add_reviewer(s, "lena", role="lead")
        now = datetime.now(UTC)
        s.add(
            ReviewAssignment(
                pair_id=routed.review[0], reviewer_id=ann.id, queue="review", leased_at=now,
                lease_expires_at=now, completed_at=now,
            )
        )  # fmt: skip
        s.add(  # bob only holds a lease: he answered nothing
            ReviewAssignment(
                pair_id=routed.review[1], reviewer_id=bob.id, queue="review", leased_at=now,
                lease_expires_at=now,
            )
        )  # fmt: skip
    back_to_0010(at_0010)  # before 0011: no memberships at all
    ensure_schema(at_0010)
    with transaction(at_0010) as s:
        rows = s.execute(
            select(Reviewer.name, DatasetMember.dataset_id).join(
                DatasetMember, DatasetMember.reviewer_id == Reviewer.id
            )
        ).all()
    by_name: dict[str, int] = {}
    for name, _ in rows:
        by_name[name] = by_name.get(name, 0) + 1
    assert by_name == {"ann": 1, "lena": 2}

"""The reviewers' REST API through FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

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
    client = client_for(  # reveal on every item, no traps (tests/review/test_bias.py has those)
        sqlite_engine,
        gold_rate=0.5,
        reveal_ai_label=reveal,
        reveal_share=1.0,
        trap_rate=0.0,
        pause_rule=None,
    )
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


AWKWARD_NAMES = [
    "a/b",
    "q?x=1&y=2",
    "frag#ment",
    "100%25 sure %",
    "with space ",
    "naïve-中文-😀",
    "../dots/./label",
    "line\nbreak\ttab",
]


@pytest.mark.parametrize("name", AWKWARD_NAMES)
@pytest.mark.parametrize("safe", ["", "/"], ids=["slash-encoded", "slash-raw"])
def test_awkward_pair_ids_can_be_labeled_and_released(
    sqlite_engine: Engine, name: str, safe: str
) -> None:
    if safe and "." in name:
        pytest.skip("clients resolve ./ and ../ in an unencoded path; encode '/' for such ids")
    routed = make_routed_dataset(sqlite_engine, name=name, n_review=2)
    assert all(name in pid for pid in routed.review)
    _, token = make_reviewer(sqlite_engine, "ann")
    client = client_for(sqlite_engine)
    first = client.get("/v1/next", params={"dataset": name}, headers=auth(token))
    assert first.status_code == 200, first.text
    pid = first.json()["pair_id"]
    assert pid in routed.review
    label = client.post(
        f"/v1/items/{quote(pid, safe=safe)}/label", headers=auth(token), json={"label": "A"}
    )
    assert label.status_code == 200, label.text
    assert label.json()["pair_id"] == pid
    second = client.get("/v1/next", params={"dataset": name}, headers=auth(token))
    assert second.status_code == 200 and second.json()["pair_id"] != pid
    other = second.json()["pair_id"]
    release = client.post(f"/v1/items/{quote(other, safe=safe)}/release", headers=auth(token))
    assert release.status_code == 204, release.text
    assert client.get("/v1/next", params={"dataset": name}, headers=auth(token)).status_code == 204
    stats = client.get("/v1/stats", params={"dataset": name}, headers=auth(token)).json()
    assert stats["queues"]["review"]["done"] == 1
    with transaction(sqlite_engine) as s:
        assert s.scalar(select(HumanLabel.pair_id)) == pid
    missing = client.post(
        f"/v1/items/{quote(name + '-nope', safe=safe)}/label",
        headers=auth(token),
        json={"label": "A"},
    )
    assert missing.status_code == 404 and "no pair" in missing.json()["detail"]


def test_awkward_pair_ids_through_a_real_server(sqlite_engine: Engine) -> None:
    """The same through uvicorn and httpx over TCP (servers decode paths their own way)."""
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    name = "srv/a?b#c%25d e-ü\n"
    make_routed_dataset(sqlite_engine, name=name, n_review=2)
    _, token = make_reviewer(sqlite_engine, "ann")
    app = client_for(sqlite_engine).app
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth(token)) as http:
            for action, status in (("label", 200), ("release", 204)):
                pid = http.get("/v1/next", params={"dataset": name}).json()["pair_id"]
                resp = http.post(f"/v1/items/{quote(pid, safe='')}/{action}", json={"label": "B"})
                assert resp.status_code == status, resp.text
            assert http.get("/v1/next", params={"dataset": name}).status_code == 204
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _counts(client: TestClient, name: str, token: str) -> tuple[int, ...]:
    doc = client.get("/v1/stats", params={"dataset": name}, headers=auth(token)).json()
    flat = [
        doc["queues"][q][k]
        for q in sorted(doc["queues"])
        for k in ("pending", "leased", "done", "total")
    ]
    return (*flat, doc["you"]["labeled"], doc["you"]["leased"])


@pytest.mark.parametrize(
    ("n_review", "n_spot"), [(8, 0), (0, 6), (6, 2), (2, 6), (3, 3), (1, 7), (5, 1), (4, 4), (7, 2)]
)
def test_stats_do_not_give_gold_checks_away(engine: Engine, n_review: int, n_spot: int) -> None:
    """Leasing, labeling and releasing a gold check move /v1/stats as a real item does.

    The queues reserve slots for the checks (referee.review.gold_slots), so a check takes a
    pending slot of a queue as a real item would, with several queues too, and even near the
    end of a queue (the mixes where a check used to pass for a queue that had run out).
    A lease must move the counts (the reviewer's and a watcher's) as some real lease did, and
    every answer, of a check or a real item, must then move them by the one rule of its action
    (label: that queue's item leased -> done; release: leased -> pending), so that no check
    passes unless a real item in its place would have moved the counts the same way.
    """
    routed = make_routed_dataset(engine, n_review=n_review, n_spot=n_spot, n_gold=6)
    _, token = make_reviewer(engine, "ann")
    _, watcher = make_reviewer(engine, "bob")
    client = client_for(engine, gold_rate=0.5, pause_rule=None)  # wrong answers on purpose
    Move = tuple[str, tuple[int, ...], tuple[int, ...], tuple[int, ...]]
    deltas: dict[bool, set[Move]] = {True: set(), False: set()}
    served = {True: 0, False: 0}
    step = 0
    while True:
        before = (_counts(client, routed.name, token), _counts(client, routed.name, watcher))
        resp = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token))
        if resp.status_code == 204:
            break
        pid = resp.json()["pair_id"]
        is_gold = pid in routed.gold
        served[is_gold] += 1
        leased = (_counts(client, routed.name, token), _counts(client, routed.name, watcher))
        action = "release" if step % 3 == 2 else "label"
        client.post(f"/v1/items/{pid}/{action}", headers=auth(token), json={"label": "A"})
        after = (_counts(client, routed.name, token), _counts(client, routed.name, watcher))
        step += 1
        change = tuple(
            tuple(b - a for a, b in zip(x, y, strict=True))
            for x, y in ((before[0], leased[0]), (before[1], leased[1]), (leased[0], after[0]))
        )
        if step > 1:  # the first lease builds the queue
            deltas[is_gold].add((action, *change))  # type: ignore[arg-type]
    assert served[True] >= 2 and served[False] >= 2
    assert deltas[True] and deltas[False]
    real_leases = {(ann, bob) for _, ann, bob, _ in deltas[False]}
    for is_gold, moves in deltas.items():
        for action, ann, bob, answer in moves:
            assert not is_gold or (ann, bob) in real_leases, (action, ann, bob, real_leases)
            assert answer == _answer_move(action, ann), (is_gold, action, ann, answer)


def _answer_move(action: str, lease: tuple[int, ...]) -> tuple[int, ...]:
    """How a label or release moves the counts of :func:`_counts` after ``lease`` moved them."""
    moved = [i for i in range(0, len(lease) - 2, 4) if lease[i : i + 2] == (-1, 1)]
    assert len(moved) == 1 and lease[-2:] == (0, 1), lease  # one queue: pending -> leased
    out = [0] * len(lease)
    out[moved[0] + 1] = -1  # off leased
    if action == "label":
        out[moved[0] + 2] = out[-2] = 1  # done, and labeled by you
    else:
        out[moved[0]] = 1  # back to pending
    out[-1] = -1  # no longer leased by you
    return tuple(out)


def test_unstorable_text_is_refused_not_a_server_error(engine: Engine) -> None:
    """NUL characters crashed PostgreSQL (500); now 422/404 on both databases."""
    routed = make_routed_dataset(engine, n_review=1)
    _, token = make_reviewer(engine, "ann")
    client = client_for(engine)
    bad_dataset = client.get("/v1/next", params={"dataset": "ds\x00"}, headers=auth(token))
    assert bad_dataset.status_code == 422, bad_dataset.text
    long_dataset = client.get("/v1/stats", params={"dataset": "d" * 201}, headers=auth(token))
    assert long_dataset.status_code == 422, long_dataset.text
    pid = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token)).json()[
        "pair_id"
    ]
    nul = client.post(
        f"/v1/items/{quote(pid, safe='')}/label",
        headers=auth(token),
        json={"label": "A", "rationale": "why\u0000"},
    )
    assert nul.status_code == 422 and "NUL" in nul.json()["detail"], nul.text
    for bad_id in ("x%00y", "%ED%A0%80", "x" * 300):
        resp = client.post(f"/v1/items/{bad_id}/release", headers=auth(token))
        assert resp.status_code == 404, (bad_id, resp.text)
    ok = client.post(
        f"/v1/items/{quote(pid, safe='')}/label", headers=auth(token), json={"label": "A"}
    )
    assert ok.status_code == 200, ok.text

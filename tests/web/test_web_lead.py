"""The lead's page in a real browser: figures on screen, lead token required, layout holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select

from referee.db.engine import transaction
from referee.db.models import AuditEntry
from referee.review.tokens import add_reviewer
from tests.helpers import grant_every_dataset
from tests.web.conftest import LiveServer

Page = Any


def answer_all(base: str, dataset: str, token: str, label: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers) as client:
        while (resp := client.get("/v1/next", params={"dataset": dataset})).status_code == 200:
            pid = resp.json()["pair_id"]
            client.post(f"/v1/items/{pid}/label", json={"label": label}).raise_for_status()


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
def test_lead_page_shows_the_overview(
    sqlite_engine: Engine,
    live_server: Callable[..., LiveServer],
    page_factory: Callable[..., Page],
    size: tuple[int, int],
) -> None:
    routed = make_routed_dataset(
        sqlite_engine, "team", n_review=6, n_spot=2, n_gold=4, gold_label="B"
    )
    _, ann = make_reviewer(sqlite_engine, "ann")
    _, bob = make_reviewer(sqlite_engine, "bob")
    with transaction(sqlite_engine) as s:
        lena, lead = add_reviewer(s, "lena", role="lead")
        grant_every_dataset(s, lena)
    live = live_server(gold_rate=0.25, review_k=2)
    answer_all(live.url, routed.name, ann, "B")
    answer_all(live.url, routed.name, bob, "A")

    page = page_factory(*size)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live.url}/lead#token={lead}&dataset=team")
    page.locator("#overview").wait_for(state="visible")
    assert lead not in page.url
    queues = page.locator("#queues tbody").text_content() or ""
    assert "review" in queues and "spot_check" in queues
    assert (page.locator("#alpha").text_content() or "").startswith("\u03b1 = ")
    assert "interval" in (page.locator("#alpha-ci").text_content() or "")
    rows = page.locator("#reviewers tbody tr")
    assert rows.count() == 2
    ann_row = rows.filter(has_text="ann").text_content() or ""
    bob_row = rows.filter(has_text="bob").text_content() or ""
    assert "100.0%" in ann_row and "0.0%" in bob_row
    assert page.locator("#reviewers svg.spark polyline").count() == 2
    assert "Hidden gold checks" in (page.locator("#gold-served").text_content() or "")
    widths = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1], widths
    assert all(url.startswith(live.url + "/") for url in requests)


def test_lead_page_refuses_a_reviewer_token(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    make_routed_dataset(sqlite_engine, "team", n_review=1)
    _, ann = make_reviewer(sqlite_engine, "ann")
    live = live_server()
    page = page_factory()
    page.goto(f"{live.url}/lead#token={ann}")
    page.locator("#login-error").wait_for(state="visible")
    assert "lead token" in (page.locator("#login-error").text_content() or "")
    assert page.locator("#overview").is_hidden()


def test_lead_pauses_and_unpauses_a_reviewer_from_the_page(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, "team", n_review=3)
    _, ann = make_reviewer(sqlite_engine, "ann")
    with transaction(sqlite_engine) as s:
        lena, lead = add_reviewer(s, "lena", role="lead")
        grant_every_dataset(s, lena)
    live = live_server()
    page = page_factory()
    page.goto(f"{live.url}/lead#token={lead}&dataset=team")
    button = page.locator("button[data-reviewer=ann]")
    button.wait_for(state="visible")
    assert button.text_content() == "Pause"
    button.click()
    page.wait_for_function(
        "() => document.querySelector('button[data-reviewer=ann]')?.textContent === 'Unpause'"
    )
    headers = {"Authorization": f"Bearer {ann}"}
    refused = httpx.get(f"{live.url}/v1/next", params={"dataset": routed.name}, headers=headers)
    assert refused.status_code == 403 and refused.json()["detail"].startswith("paused:")
    with transaction(sqlite_engine) as s:
        audit = s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "reviewer", AuditEntry.actor == "lena")
        ).all()
    assert audit, "the pause is audited under the lead's name"
    page.locator("button[data-reviewer=ann]").click()
    page.wait_for_function(
        "() => document.querySelector('button[data-reviewer=ann]')?.textContent === 'Pause'"
    )
    ok = httpx.get(f"{live.url}/v1/next", params={"dataset": routed.name}, headers=headers)
    assert ok.status_code == 200

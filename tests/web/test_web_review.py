"""The review page in a real browser: keyboard flow, undo, both-bad reason, leases, tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select, update

from referee.db.engine import transaction
from referee.db.models import AuditEntry, HumanLabel, ReviewAssignment, Reviewer
from tests.web.conftest import LiveServer

Page = Any


def labels_of(engine: Engine, annotator: str) -> list[tuple[str, str, str | None]]:
    with transaction(engine) as s:
        rows = s.execute(
            select(HumanLabel.pair_id, HumanLabel.label, HumanLabel.reason)
            .where(HumanLabel.annotator == annotator)
            .order_by(HumanLabel.id)
        ).all()
    return [(p, lab, reason) for p, lab, reason in rows]


def open_review(page: Page, live: LiveServer, token: str, dataset: str) -> str:
    """Open the page with the token in the fragment; returns the pair id shown first."""
    page.goto(f"{live.url}/#token={token}&dataset={dataset}")
    page.locator("#item").wait_for(state="visible")
    return current_pair(page)


def current_pair(page: Page) -> str:
    text: str = page.locator("#pair-id").text_content() or ""
    return text


def wait_for_new_item(page: Page, old: str) -> str:
    page.wait_for_function(
        "old => !document.getElementById('item').hidden"
        " && document.getElementById('pair-id').textContent !== old",
        arg=old,
    )
    return current_pair(page)


def test_keyboard_flow_stores_exactly_one_label_and_keeps_the_token_out_of_urls(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=3)
    _, token = make_reviewer(sqlite_engine, "ann")
    live = live_server()
    page = page_factory()
    requests: list[tuple[str, str | None]] = []
    page.on("request", lambda r: requests.append((r.url, r.headers.get("authorization"))))

    first = open_review(page, live, token, routed.name)
    assert first in routed.review
    assert token not in page.url  # wiped from the address bar
    assert page.locator("#prompt").text_content()
    page.keyboard.press("a")
    assert page.locator("[data-label=A]").get_attribute("aria-pressed") == "true"
    assert labels_of(sqlite_engine, "ann") == []  # choosing alone stores nothing
    page.keyboard.press("Enter")
    second = wait_for_new_item(page, first)

    assert second in routed.review and second != first
    assert labels_of(sqlite_engine, "ann") == [(first, "A", None)]
    assert "Saved" in (page.locator("#flash").text_content() or "")
    page.wait_for_function(
        "() => document.getElementById('progress').textContent.includes('1 done today')"
    )
    assert requests, "the page made no requests"
    assert all(token not in url for url, _ in requests)
    api_calls = [(url, auth) for url, auth in requests if "/v1/" in url]
    assert api_calls and all(auth == f"Bearer {token}" for _, auth in api_calls)
    assert all(url.startswith(live.url) for url, _ in requests)


def test_undo_takes_the_last_label_back_and_the_item_can_be_answered_again(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=3)
    _, token = make_reviewer(sqlite_engine, "ann")
    live = live_server()
    page = page_factory()
    first = open_review(page, live, token, routed.name)
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    second = wait_for_new_item(page, first)
    assert labels_of(sqlite_engine, "ann") == [(first, "B", None)]

    page.keyboard.press("u")
    assert wait_for_new_item(page, second) == first
    assert "taken back" in (page.locator("#flash").text_content() or "")
    assert labels_of(sqlite_engine, "ann") == []
    with transaction(sqlite_engine) as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.actor == "ann")).all()
    assert "review.undo" in actions

    page.keyboard.press("t")
    page.keyboard.press("Enter")
    # the item leased before the undo comes back next, still under its own lease
    assert wait_for_new_item(page, first) == second
    assert labels_of(sqlite_engine, "ann") == [(first, "tie", None)]
    # U takes back the last label only: once, then there is nothing left to take back
    page.keyboard.press("u")
    assert wait_for_new_item(page, second) == first
    assert labels_of(sqlite_engine, "ann") == []
    page.keyboard.press("u")
    page.wait_for_function(
        "() => document.getElementById('flash').textContent.includes('Nothing to undo')"
    )
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    assert wait_for_new_item(page, first) == second
    assert labels_of(sqlite_engine, "ann") == [(first, "A", None)]


def test_both_bad_needs_a_reason(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=2)
    _, token = make_reviewer(sqlite_engine, "ann")
    live = live_server()
    page = page_factory()
    first = open_review(page, live, token, routed.name)
    page.keyboard.press("x")
    reason = page.locator("#reason")
    assert reason.is_visible()
    assert page.evaluate("document.activeElement.id") == "reason"
    assert reason.input_value() == ""  # the X itself is not typed into the field
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('flash').textContent.includes('reason is required')"
    )
    assert "invalid" in (page.locator("#reason-box").get_attribute("class") or "")
    assert current_pair(page) == first
    assert labels_of(sqlite_engine, "ann") == []

    page.keyboard.type("Both ignore the question.")
    page.keyboard.press("Enter")
    wait_for_new_item(page, first)
    assert labels_of(sqlite_engine, "ann") == [(first, "both_bad", "Both ignore the question.")]


def test_skip_releases_the_lease(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=2)
    _, token = make_reviewer(sqlite_engine, "ann")
    live = live_server()
    page = page_factory()
    first = open_review(page, live, token, routed.name)
    page.keyboard.press("s")
    second = wait_for_new_item(page, first)
    assert second != first
    with transaction(sqlite_engine) as s:
        skipped = s.scalars(select(ReviewAssignment).where(ReviewAssignment.pair_id == first)).one()
        assert skipped.completed_at is None
        assert skipped.lease_expires_at.replace(tzinfo=UTC) <= datetime.now(UTC)
    assert labels_of(sqlite_engine, "ann") == []


def test_expired_lease_says_so_clearly(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=3)
    _, token = make_reviewer(sqlite_engine, "ann")
    # the page's own countdown runs out
    live = live_server(lease_seconds=2)
    page = page_factory()
    first = open_review(page, live, token, routed.name)
    page.locator("#notice").wait_for(state="visible", timeout=6000)
    assert "lease on this item has expired" in (page.locator("#notice-text").text_content() or "")
    page.keyboard.press("a")  # no item on screen: nothing to answer
    page.keyboard.press("Enter")  # next item
    second = wait_for_new_item(page, first)
    assert labels_of(sqlite_engine, "ann") == []

    # the server's word: the lease ended while the page still counted (clock change, sleep)
    with transaction(sqlite_engine) as s:
        s.execute(
            update(ReviewAssignment)
            .where(ReviewAssignment.pair_id == second)
            .values(lease_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    page.locator("#notice").wait_for(state="visible")
    assert "expired" in (page.locator("#notice-text").text_content() or "")
    assert "Enter" in (page.locator("#notice-hint").text_content() or "")
    assert labels_of(sqlite_engine, "ann") == []


def test_wrong_token_is_refused(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=2)
    make_reviewer(sqlite_engine, "ann")
    live = live_server()
    page = page_factory()
    page.goto(f"{live.url}/#token=rvw_not-a-real-token&dataset={routed.name}")
    page.locator("#login-error").wait_for(state="visible")
    assert "refused this token" in (page.locator("#login-error").text_content() or "")
    assert page.locator("#item").is_hidden()
    assert page.evaluate("sessionStorage.getItem('referee.token')") is None
    with transaction(sqlite_engine) as s:
        assert s.scalars(select(ReviewAssignment)).all() == []


def test_token_entered_once_in_the_form(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=2)
    _, token = make_reviewer(sqlite_engine, "ann")
    live = live_server()
    page = page_factory()
    page.goto(live.url + "/")
    page.locator("#login").wait_for(state="visible")
    page.fill("#login-token", token)
    page.fill("#login-dataset", routed.name)
    page.keyboard.press("Enter")
    page.locator("#item").wait_for(state="visible")
    assert current_pair(page) in routed.review
    assert token not in page.url
    page.reload()  # the tab remembers the token: straight back to the same leased item
    page.locator("#item").wait_for(state="visible")
    assert current_pair(page) in routed.review


def test_help_and_diff_views(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=1)
    _, token = make_reviewer(sqlite_engine, "ann")
    live = live_server()
    page = page_factory()
    open_review(page, live, token, routed.name)
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("a")  # keys do nothing behind the help
    assert page.locator("[data-label=A]").get_attribute("aria-pressed") == "false"
    page.keyboard.press("Escape")
    assert page.locator("#help").is_hidden()
    page.keyboard.press("d")
    assert page.locator("#btn-diff").get_attribute("aria-pressed") == "true"
    # factory responses differ in one letter and a number: "Answer A on ..." / "Answer B on ..."
    assert page.locator("#response-a del").count() >= 1
    assert page.locator("#response-b ins").count() >= 1
    page.keyboard.press("d")
    assert page.locator("#response-a del").count() == 0


def test_a_paused_reviewer_is_told_so(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=2)
    _, token = make_reviewer(sqlite_engine, "ann")
    with transaction(sqlite_engine) as s:
        s.execute(update(Reviewer).where(Reviewer.name == "ann").values(paused=True))
    live = live_server()
    page = page_factory()
    page.goto(f"{live.url}/#token={token}&dataset={routed.name}")
    page.locator("#notice").wait_for(state="visible")
    assert (page.locator("#notice-text").text_content() or "").startswith("You are paused")
    assert page.locator("#item").is_hidden()

"""The review page names only the reviewer's own datasets, never the others."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from review_factory import make_routed_dataset
from sqlalchemy import Engine

from referee.db.engine import transaction
from referee.review.membership import grant
from referee.review.tokens import add_reviewer
from tests.web.conftest import LiveServer


def test_the_page_lists_only_the_reviewers_datasets(
    sqlite_engine: Engine,
    live_server: Callable[..., LiveServer],
    page_factory: Callable[..., Any],
) -> None:
    make_routed_dataset(sqlite_engine, "public-set", n_review=1)
    make_routed_dataset(sqlite_engine, "frozen-pii-eval", n_review=1)
    with transaction(sqlite_engine) as s:
        _, token = add_reviewer(s, "ann")
        grant(s, "ann", "public-set")
    live = live_server()
    page = page_factory()
    page.goto(f"{live.url}/#token={token}&dataset=no-such-set")
    page.wait_for_function(
        "() => document.getElementById('login-error').textContent.includes('Your datasets')"
    )
    message = page.locator("#login-error").text_content() or ""
    assert "Your datasets: public-set." in message
    assert "no-such-set" in message
    options = page.evaluate(
        "() => [...document.querySelectorAll('#my-datasets option')].map(o => o.value)"
    )
    assert options == ["public-set"]
    assert "frozen-pii-eval" not in page.content()  # another's dataset is never named

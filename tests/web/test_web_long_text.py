"""One long unbroken line on the review page: the item shows, ``D`` diffs it, "Show all"
brings the rest (behaviour only; bench/page_long_text.py measures the time)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, update

from referee.db.engine import transaction
from referee.db.models import Pair
from tests.web.conftest import LiveServer

LINE = ("0123456789abcdef" * 65_536)[:1_000_000]  # 1 MB, no space anywhere


def long_line_item(engine: Engine) -> str:
    routed = make_routed_dataset(engine, "long", n_review=1)
    pair_id = routed.review[0]
    with transaction(engine) as s:
        s.execute(
            update(Pair)
            .where(Pair.id == pair_id)
            .values(response_a="START" + LINE + "END", response_b="START a short answer END")
        )
    return pair_id


def test_a_one_megabyte_line_shows_diffs_and_expands(
    sqlite_engine: Engine,
    live_server: Callable[..., LiveServer],
    page_factory: Callable[..., Any],
) -> None:
    pair_id = long_line_item(sqlite_engine)
    _, token = make_reviewer(sqlite_engine, "ann")
    live = live_server()
    page = page_factory()
    page.set_default_timeout(30_000)
    page.goto(f"{live.url}/#token={token}&dataset=long")
    page.locator("#item").wait_for(state="visible")
    assert page.locator("#pair-id").text_content() == pair_id
    shown = page.evaluate("() => document.getElementById('response-a').textContent")
    assert shown.startswith("START0123456789abcdef") and len(shown) < 60_000  # clipped
    button = page.locator("#response-a button.show-all")
    assert "1,000,008 characters" in (button.text_content() or "")
    widest = page.evaluate(
        "() => { const p = document.getElementById('response-a');"
        " return p.scrollWidth <= p.clientWidth + 1; }"
    )
    assert widest  # the line wraps inside its panel: no sideways scrolling

    page.keyboard.press("d")
    page.wait_for_function("() => document.getElementById('response-a').classList.contains('diff')")
    assert page.locator("#response-a del").count() >= 1  # the long line differs
    assert page.locator("#response-b ins").count() >= 1
    assert page.locator("#btn-diff").get_attribute("aria-pressed") == "true"

    page.keyboard.press("d")  # back to the plain view, then everything
    page.locator("#response-a button.show-all").click()
    page.wait_for_function(
        "() => document.getElementById('response-a').textContent.length >= 1000008"
    )
    full = page.evaluate("() => document.getElementById('response-a').textContent")
    assert full == "START" + LINE + "END"  # the break opportunities add no character
    assert page.locator("#response-a button.show-all").count() == 0

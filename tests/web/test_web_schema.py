"""The review schema and automation-bias controls in a real browser: the 5-point keys, ratings,
the required rationale, the dataset's guidelines behind ``?``, the AI pre-label, and the lead
page's cost and bias columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select

from referee.db.engine import transaction
from referee.db.models import HumanLabel, Judgment
from referee.review.schema import set_schema
from referee.review.tokens import add_reviewer
from tests.helpers import grant_every_dataset
from tests.web.conftest import LiveServer
from tests.web.test_web_lead import answer_all
from tests.web.test_web_review import current_pair, open_review, wait_for_new_item

Page = Any


def stored(engine: Engine) -> list[tuple[Any, ...]]:
    with transaction(engine) as s:
        rows = s.execute(
            select(
                HumanLabel.pair_id,
                HumanLabel.label,
                HumanLabel.strength,
                HumanLabel.ratings,
                HumanLabel.rationale,
                HumanLabel.rubric_version,
            ).order_by(HumanLabel.id)
        ).all()
    return [tuple(r) for r in rows]


def test_five_point_keys_ratings_rationale_and_guidelines(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=4)
    with transaction(sqlite_engine) as s:
        set_schema(
            s,
            routed.name,
            scale=5,
            dimensions=("helpfulness", "safety"),
            require_rationale="always",
            guidelines="# Team rubric\n\nPrefer the **safer** answer.\n",
        )
    _, token = make_reviewer(sqlite_engine, "ann")
    live = live_server()
    page = page_factory()
    first = open_review(page, live, token, routed.name)
    assert page.locator("#scale").is_visible() and page.locator("#rationale-box").is_visible()

    page.keyboard.press("?")  # the dataset's guidelines and version, not the built-in ones
    assert "Team rubric" in (page.locator("#guidelines").text_content() or "")
    assert "version 2" in (page.locator("#guidelines-version").text_content() or "")
    page.keyboard.press("Escape")

    page.keyboard.press("1")  # A ≫ B
    assert page.locator("[data-scale='1']").get_attribute("aria-pressed") == "true"
    assert page.locator("[data-label=A]").get_attribute("aria-pressed") == "true"
    page.keyboard.press("Enter")  # no ratings yet: refused on the page
    assert "Rate helpfulness, safety" in (page.locator("#flash").text_content() or "")
    page.keyboard.press("g")
    page.keyboard.type("45")  # helpfulness 4, then focus moves to safety: 5
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")  # no rationale yet: refused on the page
    assert "requires a rationale" in (page.locator("#flash").text_content() or "")
    page.keyboard.type("A is correct")
    page.keyboard.press("Enter")
    second = wait_for_new_item(page, first)
    assert stored(sqlite_engine) == [
        (first, "A", "much", {"helpfulness": 4, "safety": 5}, "A is correct", "v2")
    ]

    page.keyboard.press("b")  # B without a strength: the page asks for one
    assert "Press 5" in (page.locator("#flash").text_content() or "")
    page.keyboard.press("4")  # B > A
    page.keyboard.press("g")
    page.keyboard.type("23")
    page.keyboard.press("r")
    page.keyboard.type("B is shorter")
    page.keyboard.press("Enter")
    wait_for_new_item(page, second)
    assert stored(sqlite_engine)[1] == (
        second,
        "B",
        "slight",
        {"helpfulness": 2, "safety": 3},
        "B is shorter",
        "v2",
    )
    assert current_pair(page) not in (first, second)


def test_revealed_pre_label_is_shown_and_lead_page_shows_cost_and_bias(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, "team", n_review=0, n_spot=6, ai_label="A")
    with transaction(sqlite_engine) as s:
        for pid in routed.spot:
            s.add(Judgment(pair_id=pid, judge="j", order="AB", prompt_version="p", cost=0.5))
        lena, lead = add_reviewer(s, "lena", role="lead")
        grant_every_dataset(s, lena)
    _, token = make_reviewer(sqlite_engine, "ann")
    live = live_server(reveal_ai_label=True, reveal_share=1.0, trap_rate=0.0)
    page = page_factory()
    open_review(page, live, token, routed.name)
    assert "AI pre-label: A is better" in (page.locator("#ai-label").text_content() or "")
    answer_all(live.url, routed.name, token, "B")

    lead_page = page_factory()
    lead_page.goto(f"{live.url}/lead#token={lead}&dataset=team")
    lead_page.locator("#overview").wait_for(state="visible")
    total = lead_page.locator("#cost-total").text_content() or ""
    assert total == "$9.00"  # $3 of judges + 6 labels at $1
    assert "6 \u00d7 $1.00" in (lead_page.locator("#cost").text_content() or "")
    row = lead_page.locator("#reviewers tbody tr").filter(has_text="ann").text_content() or ""
    assert "100.0% / \u2013" in row  # overrode every shown label; nothing hidden

"""Untrusted response text on the review page: nothing runs, nothing loads, layout holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select

from referee.db.engine import transaction
from referee.db.models import HumanLabel, Pair
from tests.web.conftest import LiveServer

Page = Any

# Each payload, if it ever ran, would set window.__xss, open a dialog or fetch another origin.
PAYLOADS = [
    "<script>window.__xss = 'script'; alert('script')</script>",
    '<img src="http://evil.invalid/x.png" onerror="window.__xss=\'img\'; alert(1)">',
    "[click me](javascript:window.__xss='link';alert(1))",
    "![tracker](http://evil.invalid/pixel.gif)",
    "<svg onload=\"window.__xss='svg'; alert(1)\"><script>window.__xss='svg2'</script></svg>",
    "**bold <b onmouseover=alert(1)>markup</b>** and `<code onclick=alert(1)>` and "
    '<a href="javascript:alert(1)">a link</a>',
    '<iframe src="javascript:alert(1)"></iframe><object data="http://evil.invalid/o"></object>',
    '<style>@import url("http://evil.invalid/s.css");</style><link rel=stylesheet href="http://evil.invalid/l.css">',
    "```html\n<script>window.__xss='fenced'</script>\n<img src=x onerror=alert(1)>\n```",
    '<meta http-equiv="refresh" content="0;url=http://evil.invalid/"><base href="http://evil.invalid/">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "\"><img src=x onerror=alert(1)>'; alert(1); //",
]
FORBIDDEN = "script, img, svg, a, iframe, object, embed, style, link, meta, base, math, form, input"


def make_payload_dataset(engine: Engine) -> list[str]:
    """One item per payload pair: the prompt and both responses carry payloads."""
    n = (len(PAYLOADS) + 1) // 2
    routed = make_routed_dataset(engine, "xss", n_review=n)
    with transaction(engine) as s:
        for i, pid in enumerate(routed.review):
            pair = s.get_one(Pair, pid)
            a, b = PAYLOADS[(2 * i) % len(PAYLOADS)], PAYLOADS[(2 * i + 1) % len(PAYLOADS)]
            pair.prompt = f"Which is better? {b}"
            pair.response_a = a
            pair.response_b = b
    return routed.review


def test_pages_carry_a_strict_content_security_policy(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer]
) -> None:
    live = live_server()
    for path in ("/", "/review", "/lead", "/static/review.js", "/static/review.css"):
        resp = httpx.get(live.url + path)
        assert resp.status_code == 200, path
        csp = resp.headers["content-security-policy"]
        for directive in (
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "img-src 'self' data:",
            "frame-ancestors 'none'",
            "form-action 'none'",
            "base-uri 'none'",
        ):
            assert directive in csp, (path, directive)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["referrer-policy"] == "no-referrer"
    assert httpx.get(live.url + "/static/..%2Fapi%2Fapp.py").status_code == 404
    assert httpx.get(live.url + "/static/missing.js").status_code == 404
    html = httpx.get(live.url + "/").text
    assert "<script>" not in html and " on" + "click=" not in html  # no inline script at all


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
def test_xss_payloads_stay_inert(
    sqlite_engine: Engine,
    live_server: Callable[..., LiveServer],
    page_factory: Callable[..., Page],
    size: tuple[int, int],
) -> None:
    pair_ids = make_payload_dataset(sqlite_engine)
    _, token = make_reviewer(sqlite_engine, "ann")
    live = live_server()
    page = page_factory(*size)
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))

    page.goto(f"{live.url}/#token={token}&dataset=xss")
    seen: list[str] = []
    for _ in pair_ids:
        page.locator("#item").wait_for(state="visible")
        pair_id = page.locator("#pair-id").text_content() or ""
        seen.append(pair_id)
        with transaction(sqlite_engine) as s:
            pair = s.get_one(Pair, pair_id)
            expected = (pair.prompt, pair.response_a, pair.response_b)
        for view in ("markdown", "diff"):
            # the payload is on screen as the characters it is made of ...
            shown_a = page.locator("#response-a").text_content() or ""
            shown_b = page.locator("#response-b").text_content() or ""
            for marker in ("<script", "onerror", "javascript:", "<svg", "<iframe", "@import"):
                if marker in expected[1]:
                    assert marker in shown_a, (view, marker)
                if marker in expected[2]:
                    assert marker in shown_b, (view, marker)
            # ... and no element was made from it
            count = page.evaluate(
                "sel => document.querySelectorAll("
                "'#prompt :is(' + sel + '), #response-a :is(' + sel + '), #response-b :is(' + sel + ')'"
                ").length",
                FORBIDDEN,
            )
            assert count == 0, (pair_id, view)
            attrs = page.evaluate(
                "() => [...document.querySelectorAll('#item *')]"
                ".flatMap(e => [...e.attributes].map(a => a.name))"
                ".filter(n => n.startsWith('on') || n === 'href' || n === 'src')"
            )
            assert attrs == [], (pair_id, view, attrs)
            page.keyboard.press("d")  # the word diff view renders the same text
        page.keyboard.press("t")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "old => document.getElementById('pair-id').textContent !== old", arg=pair_id
        )

    page.locator("#notice").wait_for(state="visible")  # every item answered
    page.wait_for_timeout(300)  # time for a late onerror or a delayed load to fire
    assert sorted(seen) == sorted(pair_ids)
    assert page.evaluate("() => window.__xss") is None
    assert dialogs == []
    assert requests and all(url.startswith(live.url + "/") for url in requests), requests
    with transaction(sqlite_engine) as s:
        assert len(s.scalars(select(HumanLabel).where(HumanLabel.annotator == "ann")).all()) == len(
            pair_ids
        )


def test_markdown_and_code_are_rendered_safely(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, "md", n_review=1)
    _, token = make_reviewer(sqlite_engine, "ann")
    with transaction(sqlite_engine) as s:
        pair = s.get_one(Pair, routed.review[0])
        pair.response_a = (
            "## Sorting\n\nUse **sorted** and *key*:\n\n"
            "```python\n# sort by length\nwords = sorted(words, key=len)  # stable\n"
            "print('done', 42)\n```\n\n- one\n- two `x < y`\n\n"
            "See [the docs](https://docs.python.org/3/howto/sorting.html)."
        )
        pair.response_b = "1. first\n2. second\n\n> quoted <b>text</b>"
    live = live_server()
    page = page_factory()
    page.goto(f"{live.url}/#token={token}&dataset=md")
    page.locator("#item").wait_for(state="visible")
    a = page.locator("#response-a")
    assert a.locator("h4").text_content() == "Sorting"
    assert a.locator("strong").text_content() == "sorted"
    assert a.locator("em").text_content() == "key"
    code = a.locator("pre code")
    assert code.count() == 1
    assert "words = sorted(words, key=len)" in (code.text_content() or "")
    assert a.locator("pre").get_attribute("data-lang") == "python"
    assert a.locator("pre .tok-com").first.text_content() == "# sort by length"
    assert a.locator("pre .tok-str").first.text_content() == "'done'"
    assert a.locator("pre .tok-num").first.text_content() == "42"
    assert a.locator("ul li").count() == 2
    assert a.locator("li code").text_content() == "x < y"
    assert (
        a.locator(".link-url").text_content() == " (https://docs.python.org/3/howto/sorting.html)"
    )
    assert a.locator("a").count() == 0  # links are text, never navigable
    b = page.locator("#response-b")
    assert b.locator("ol li").count() == 2
    assert b.locator("blockquote").text_content() == "quoted <b>text</b>"


LONG_WORD = "x" * 400
LONG_CODE = "```\n" + "y = 1  # " + "z" * 500 + "\n```"


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
def test_layout_fits_the_screen(
    sqlite_engine: Engine,
    live_server: Callable[..., LiveServer],
    page_factory: Callable[..., Page],
    size: tuple[int, int],
) -> None:
    routed = make_routed_dataset(sqlite_engine, "wide", n_review=1)
    _, token = make_reviewer(sqlite_engine, "ann")
    with transaction(sqlite_engine) as s:
        pair = s.get_one(Pair, routed.review[0])
        pair.prompt = "Explain. " + LONG_WORD
        pair.response_a = "\n\n".join(["A long paragraph of text. " * 20] * 30) + "\n\n" + LONG_CODE
        pair.response_b = LONG_WORD + "\n\n" + "Short answer B."
    live = live_server()
    page = page_factory(*size)
    page.goto(f"{live.url}/#token={token}&dataset=wide")
    page.locator("#item").wait_for(state="visible")
    width, height = size
    overflow = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]"
    )
    assert overflow[0] <= overflow[2] and overflow[1] <= overflow[2], overflow
    boxes = {pid: page.locator(f"#{pid}").bounding_box() for pid in ("panel-a", "panel-b")}
    for name, box in boxes.items():
        assert box is not None and box["width"] > 150 and box["height"] > 100, (name, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (name, box)
    a, b = boxes["panel-a"], boxes["panel-b"]
    assert a is not None and b is not None
    if width >= 1000:  # side by side, both fully in view
        assert abs(a["y"] - b["y"]) < 1 and a["x"] + a["width"] <= b["x"]
        assert a["y"] + a["height"] <= height and b["y"] + b["height"] <= height
    else:  # stacked, B below A
        assert b["y"] >= a["y"] + a["height"] - 1
        assert abs(a["x"] - b["x"]) < 1
    # each response scrolls on its own
    scrolled = page.evaluate(
        "() => { const a = document.getElementById('response-a');"
        " const b = document.getElementById('response-b');"
        " a.scrollTop = 400; return [a.scrollHeight > a.clientHeight, a.scrollTop, b.scrollTop]; }"
    )
    assert scrolled[0] is True and scrolled[1] > 0 and scrolled[2] == 0, scrolled
    # the answer buttons are on screen without scrolling the page sideways
    submit = page.locator("#btn-submit").bounding_box()
    assert submit is not None and submit["x"] + submit["width"] <= width + 0.5


def test_huge_and_pathological_text_renders_promptly(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, "big", n_review=1)
    _, token = make_reviewer(sqlite_engine, "ann")
    with transaction(sqlite_engine) as s:
        pair = s.get_one(Pair, routed.review[0])
        pair.prompt = "# " + " #" * 20_000 + "x"
        pair.response_a = "**a *b _c `d ![e [f](" * 50_000  # ~1 MB of unmatched markers
        pair.response_b = ("- item **b** `c`\n" * 20_000) + "```\n" + "/* 'x \"y " * 20_000
    live = live_server()
    page = page_factory()
    page.goto(f"{live.url}/#token={token}&dataset=big")
    page.locator("#item").wait_for(state="visible", timeout=10_000)
    took = page.evaluate(
        "() => { const t = performance.now();"
        " document.getElementById('btn-diff').click(); document.getElementById('btn-diff').click();"
        " return performance.now() - t; }"
    )
    assert took < 5000, took
    # past 50,000 characters a text waits behind "Show all" (referee/web/longtext.js) ...
    shown = len(page.locator("#response-a").text_content() or "")
    assert 50_000 <= shown < 60_000
    for panel in ("#response-a", "#response-b"):
        page.locator(f"{panel} button.show-all").click()
    # ... and then renders whole, as promptly
    assert len(page.locator("#response-a").text_content() or "") >= 1_000_000
    assert page.locator("#response-b li").count() == 20_000


def test_mouse_only_flow_on_a_phone_screen(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    routed = make_routed_dataset(sqlite_engine, "tap", n_review=2)
    _, token = make_reviewer(sqlite_engine, "ann")
    live = live_server()
    page = page_factory(390, 844)
    page.goto(f"{live.url}/#token={token}&dataset=tap")
    page.locator("#item").wait_for(state="visible")
    first = page.locator("#pair-id").text_content()
    assert first in routed.review
    page.click("[data-label=both_bad]")
    page.fill("#reason", "Neither answers the question.")
    page.click("#btn-submit")
    page.wait_for_function(
        "old => document.getElementById('pair-id').textContent !== old", arg=first
    )
    with transaction(sqlite_engine) as s:
        rows = s.execute(select(HumanLabel.pair_id, HumanLabel.label, HumanLabel.reason)).all()
    assert [tuple(r) for r in rows] == [(first, "both_bad", "Neither answers the question.")]

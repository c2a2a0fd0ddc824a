"""The review page with one 1 MB single-line response: time to show the item and the diff.

Usage: python bench/page_long_text.py [--chars 1000000] [--runs 3]

A fresh SQLite database in a temporary folder holds one pair routed to review whose response A
is one line of ``--chars`` characters without a space (response B is short). The server runs
in-process (uvicorn on 127.0.0.1, a free port); headless Chromium (Debian's
``/usr/bin/chromium``, as the browser tests start it) opens the review page with a reviewer
token. Figures, each the median of ``--runs`` page loads:

* **show**: from navigation to the item on screen and painted (the next animation frame);
* **diff**: from the ``D`` key to the diff view painted;
* **show all**: from the "Show all" click to the whole line painted.

Target (issue 21): show and diff <= 1 s each. Printed as seconds and as a ratio of the target.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

TARGET_S = 1.0
PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def set_up(folder: Path, chars: int) -> tuple[Any, str]:
    """A database with one long-line pair in review, and a reviewer token for it."""
    from sqlalchemy import update

    from referee.db.engine import ensure_schema, make_engine, transaction
    from referee.db.models import Pair
    from referee.review.membership import grant
    from referee.review.tokens import add_reviewer
    from tests.review.review_factory import make_routed_dataset

    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    ensure_schema(engine)
    routed = make_routed_dataset(engine, "long", n_review=1)
    line = ("0123456789abcdef" * (chars // 16 + 1))[:chars]
    with transaction(engine) as s:
        s.execute(update(Pair).where(Pair.id == routed.review[0]).values(
            response_a=line, response_b="a short answer"))  # fmt: skip
        _, token = add_reviewer(s, "bench")
        grant(s, "bench", "long")
    return engine, token


def serve(engine: Any) -> tuple[str, Any]:
    import uvicorn

    from referee.api.app import create_app
    from referee.review import QueueConfig
    from referee.settings import Settings

    app = create_app(
        engine, Settings(database_url=str(engine.url)), config=QueueConfig(gold_rate=0.0)
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server


def one_run(browser: Any, url: str, token: str) -> tuple[float, float, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(120_000)
    started = time.perf_counter()
    page.goto(f"{url}/#token={token}&dataset=long")
    page.locator("#item").wait_for(state="visible")
    page.evaluate(PAINTED)
    show = time.perf_counter() - started
    started = time.perf_counter()
    page.keyboard.press("d")
    page.wait_for_function("() => document.getElementById('response-a').classList.contains('diff')")
    page.evaluate(PAINTED)
    diff = time.perf_counter() - started
    page.keyboard.press("d")
    page.evaluate(PAINTED)
    started = time.perf_counter()
    page.locator("#response-a button.show-all").click()
    page.wait_for_function("() => !document.querySelector('#response-a button.show-all')")
    page.evaluate(PAINTED)
    show_all = time.perf_counter() - started
    context.close()
    return show, diff, show_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chars", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from tests.browser_launch import launch_chromium

    with tempfile.TemporaryDirectory() as tmp:
        engine, token = set_up(Path(tmp), args.chars)
        url, server = serve(engine)
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            runs = [one_run(browser, url, token) for _ in range(args.runs)]
            browser.close()
        server.should_exit = True
        engine.dispose()
    ok = True
    for name, values in zip(
        ("show item", "diff (D)", "show all"), zip(*runs, strict=True), strict=True
    ):
        median = statistics.median(values)
        target = (
            ""
            if name == "show all"
            else f"  ratio to the {TARGET_S:.0f} s target: {median / TARGET_S:.2f}"
        )
        ok = ok and (name == "show all" or median <= TARGET_S)
        print(f"{name:<10} median {median:.3f} s over {len(values)} runs{target}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

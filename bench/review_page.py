"""Review page speed, measured by driving the real page in headless Chromium; and screenshots.

Usage: python bench/review_page.py [--items 40] [--embedder auto|minilm|tfidf] [--no-screenshots]

Set-up (a fresh SQLite database in a temporary folder): the bundled LLMBar sample (419 real
pairs) is ingested with ``referee ingest``, and 200 of its pairs are routed to human review
(decisions written as ``referee route`` writes them, with spread confidences) and 30 accepted
AI labels to spot checks, so the queue is
stale, as it is after every routing. The gold labels of the other pairs are imported (hidden
gold checks, at the default rate of 10%), and reviewers and a lead are added with
``referee reviewers add``. The server runs with two reviewers per item.

Figures:

1. **First item after server start.** ``referee serve`` starts as a subprocess; once its port
   accepts connections, the page is opened with a reviewer token and the time until the first
   item is on screen is taken, with the ``/v1/next`` request's own time from the browser's
   Resource Timing. Target: ≤ 300 ms. The server's start-up (which builds stale queues and so
   loads the embedding model, :mod:`referee.review.warmup`) is printed separately.
2. **Key press to next item.** ``--items`` items are answered by keyboard (``A`` then
   ``Enter``); the page's User Timing measures from the ``Enter`` keydown to the next item in
   the DOM (``referee:key-to-item``) and to the next animation frame (``referee:key-to-paint``).
   Target: median ≤ 100 ms on loopback.

Screenshots (``docs/screenshots/``): ``review-1280x800.png`` (an item with markdown and code),
``review-diff-1280x800.png`` (the word diff view), ``review-390x844.png`` (a phone screen) and
``review-help-1280x800.png`` (the guidelines); then three simulated reviewers answer 50 items
each through the API (right with probability 0.9, 0.8, 0.55) and ``lead-1280x800.png`` shows
the lead's page.

Needs Debian's ``chromium`` at /usr/bin/chromium and ``pip install playwright`` (no browser
download).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "referee" / "data" / "sample" / "pairs.jsonl"
SCREENSHOTS = ROOT / "docs" / "screenshots"
DATASET = "llmbar"
ROUTED = 200
SPOT = 30
TEAM_ITEMS = 50


def referee(env: dict[str, str], *args: str) -> str:
    """Run the ``referee`` CLI of this environment; its stdout."""
    exe = Path(sys.executable).with_name("referee")
    done = subprocess.run(
        [str(exe), *args], env=env, capture_output=True, text=True, check=False, timeout=300
    )
    if done.returncode != 0:
        raise SystemExit(f"referee {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def route_to_review(database_url: str) -> str:
    """Send ``ROUTED`` pairs to human review; the pair with code gets the lowest confidence."""
    from sqlalchemy import select

    from referee.db.datasets import find_dataset
    from referee.db.engine import make_engine, transaction
    from referee.db.models import Pair, Policy, RoutingDecision

    engine = make_engine(database_url)
    with transaction(engine) as s:
        ds = find_dataset(s, DATASET)
        policy = Policy(dataset_id=ds.id, version=1, body={"target_agreement": 0.85})
        s.add(policy)
        s.flush()
        pairs = list(s.scalars(select(Pair).where(Pair.dataset_id == ds.id).order_by(Pair.id)))
        chosen = pairs[:ROUTED]
        spot = pairs[ROUTED : ROUTED + SPOT]
        showcase = next(
            p for p in pairs if "```" in p.response_a + p.response_b and len(p.prompt) < 600
        )
        if showcase not in chosen:
            chosen[-1] = showcase
        for i, pair in enumerate(chosen):
            s.add(
                RoutingDecision(
                    pair_id=pair.id,
                    policy_id=policy.id,
                    decision="human_review",
                    label=None,
                    source="human",
                    reasons=["low_confidence"],
                    confidence=0.05 if pair is showcase else 0.4 + 0.5 * ((i * 37) % 100) / 100,
                )
            )
        truth = gold_truth()
        for i, pair in enumerate(spot):  # accepted AI labels, 85% of them right, spot-checked
            right = truth[pair.id]
            label = right if i % 7 else next(x for x in ("A", "B") if x != right)
            s.add(
                RoutingDecision(
                    pair_id=pair.id,
                    policy_id=policy.id,
                    decision="spot_check",
                    label=label,
                    source="ai",
                    reasons=[],
                    confidence=0.45,
                    inclusion_probability=0.1,
                )
            )
        showcase_id = showcase.id
    engine.dispose()
    return showcase_id


def gold_truth() -> dict[str, str]:
    """Every sample pair's gold label."""
    with (SAMPLE.parent / "gold_labels.jsonl").open() as src:
        return {r["pair_id"]: r["label"] for r in map(json.loads, src)}


def gold_for_unrouted(database_url: str, out: Path) -> dict[str, str]:
    """Write the sample's gold labels of the pairs not routed to review into ``out`` (hidden
    gold checks come from them); return every pair's gold label (the simulation's truth)."""
    from sqlalchemy import select

    from referee.db.engine import make_engine, transaction
    from referee.db.models import RoutingDecision

    engine = make_engine(database_url)
    with transaction(engine) as s:
        routed = set(s.scalars(select(RoutingDecision.pair_id)))
    engine.dispose()
    truth = {}
    with (SAMPLE.parent / "gold_labels.jsonl").open() as src, out.open("w") as dst:
        for line in src:
            record = json.loads(line)
            truth[record["pair_id"]] = record["label"]
            if record["pair_id"] not in routed:
                dst.write(line)
    return truth


def simulate_team(base: str, team: dict[str, tuple[str, float]], truth: dict[str, str]) -> None:
    """Reviewers answering ``TEAM_ITEMS`` items each through the API, right with their
    probability (else a wrong label), so the lead page has figures to show."""
    import random

    import httpx

    rng = random.Random(0)
    for name, (token, p_right) in team.items():
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
            for _ in range(TEAM_ITEMS):
                resp = c.get("/v1/next", params={"dataset": DATASET})
                if resp.status_code != 200:
                    break
                pid = resp.json()["pair_id"]
                right = truth.get(pid, "A")
                wrong = [x for x in ("A", "B", "tie") if x != right]
                label = right if rng.random() < p_right else rng.choice(wrong)
                c.post(f"/v1/items/{pid}/label", json={"label": label}).raise_for_status()
        print(f"  simulated reviewer {name}: {TEAM_ITEMS} answers, right with p={p_right}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> float:
    """Seconds until ``port`` accepts connections."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"referee serve exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.005)
    raise SystemExit("referee serve did not start listening")


def open_item(page: Any, url: str) -> None:
    page.goto(url)
    page.locator("#item").wait_for(state="visible", timeout=30_000)


def label_by_keyboard(page: Any, items: int) -> list[float]:
    """Answer ``items`` items with A + Enter; Python-side wall time of each, in ms."""
    wall = []
    for _ in range(items):
        old = page.locator("#pair-id").text_content()
        page.keyboard.press("a")
        started = time.perf_counter()
        page.keyboard.press("Enter")
        page.wait_for_function(
            "old => document.getElementById('pair-id').textContent !== old"
            " && !document.getElementById('item').hidden",
            arg=old,
            polling="raf",
        )
        wall.append((time.perf_counter() - started) * 1000)
    return wall


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[max(0, round(0.9 * len(ordered)) - 1)]
    return f"median {statistics.median(ordered):.1f} ms, p90 {p90:.1f} ms, max {ordered[-1]:.1f} ms"


def screenshots(browser: Any, base: str, token: str) -> list[Path]:
    """Screenshots of the review page (wide, diff, help, narrow) into docs/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = []
    for width, height in ((1280, 800), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        open_item(page, f"{base}/#token={token}&dataset={DATASET}")
        page.keyboard.press("a")
        page.wait_for_timeout(200)  # fonts and layout settle
        path = SCREENSHOTS / f"review-{width}x{height}.png"
        page.screenshot(path=str(path))
        saved.append(path)
        if width > 1000:
            page.keyboard.press("d")
            path = SCREENSHOTS / f"review-diff-{width}x{height}.png"
            page.screenshot(path=str(path))
            saved.append(path)
            page.keyboard.press("d")
            page.keyboard.press("?")
            path = SCREENSHOTS / f"review-help-{width}x{height}.png"
            page.screenshot(path=str(path))
            saved.append(path)
        context.close()
    return saved


def lead_screenshot(browser: Any, base: str, token: str) -> Path:
    """The lead's page at 1280x800."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{base}/lead#token={token}&dataset={DATASET}")
    page.locator("#overview").wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(200)
    path = SCREENSHOTS / "lead-1280x800.png"
    page.screenshot(path=str(path), full_page=True)
    context.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--embedder", default="auto", choices=("auto", "minilm", "tfidf"))
    parser.add_argument("--no-screenshots", action="store_true")
    args = parser.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SystemExit("pip install playwright (the browser is Debian's chromium)") from None
    from tests.browser_launch import CHROMIUM, launch_chromium  # as the browser tests start it

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")

    with tempfile.TemporaryDirectory(prefix="referee-review-bench-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = {**os.environ, "REFEREE_DATABASE_URL": database_url, "HF_HUB_OFFLINE": "1"}
        referee(env, "ingest", str(SAMPLE), "--dataset", DATASET)
        showcase = route_to_review(database_url)
        gold_file = Path(tmp) / "gold.jsonl"
        truth = gold_for_unrouted(database_url, gold_file)
        referee(env, "labels", "import", str(gold_file), "--kind", "gold")
        team = {
            name: (referee(env, "reviewers", "add", name).strip().splitlines()[-1], p)
            for name, p in (("alice", 0.9), ("bruno", 0.8), ("chen", 0.55))
        }
        lead_token = (
            referee(env, "reviewers", "add", "lena", "--role", "lead").strip().splitlines()[-1]
        )
        bench_token = referee(env, "reviewers", "add", "bench").strip().splitlines()[-1]
        shot_token = referee(env, "reviewers", "add", "screenshots").strip().splitlines()[-1]

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            exe = Path(sys.executable).with_name("referee")
            server = subprocess.Popen(
                [
                    str(exe),
                    "serve",
                    "--port",
                    str(port),
                    "--reviewers-per-item",
                    "2",
                    "--embedder",
                    args.embedder,
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            try:
                startup = wait_listening(port, server)
                listening = time.perf_counter()
                open_item(page, f"{base}/#token={bench_token}&dataset={DATASET}")
                first_on_screen = (time.perf_counter() - listening) * 1000
                next_timing = page.evaluate(
                    "() => performance.getEntriesByType('resource')"
                    ".filter(e => e.name.includes('/v1/next'))"
                    ".map(e => e.responseEnd - e.startTime)"
                )
                loading = page.evaluate(
                    "() => [performance.getEntriesByType('navigation')[0]]"
                    ".concat(performance.getEntriesByType('resource'))"
                    ".map(e => [new URL(e.name).pathname, Math.round(e.startTime),"
                    " Math.round(e.responseEnd)])"
                )
                wall = label_by_keyboard(page, args.items)
                to_item = page.evaluate(
                    "() => performance.getEntriesByName('referee:key-to-item').map(e => e.duration)"
                )
                to_paint = page.evaluate(
                    "() => performance.getEntriesByName('referee:key-to-paint').map(e => e.duration)"
                )
                resources = page.evaluate(
                    "() => performance.getEntriesByType('resource')"
                    ".filter(e => e.name.includes('/v1/'))"
                    ".map(e => [new URL(e.name).pathname.split('/').pop(), e.responseEnd - e.startTime])"
                )
                saved = []
                if not args.no_screenshots:
                    saved = screenshots(browser, base, shot_token)
                    simulate_team(base, team, truth)
                    saved.append(lead_screenshot(browser, base, lead_token))
            finally:
                server.terminate()
                try:
                    _, err = server.communicate(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    _, err = server.communicate()
                browser.close()

    notes = [line for line in err.decode(errors="replace").splitlines() if "queues built" in line]
    print(f"server start (spawn to listening, includes the queue warm-up): {startup:.2f} s")
    if notes:
        print(f"  {notes[0].strip()}")
    print(
        f"first item: /v1/next answered in {next_timing[0]:.1f} ms; page opened to item on "
        f"screen {first_on_screen:.0f} ms after the server listened (target ≤ 300 ms)"
    )
    print(
        "  page load (path: start-end ms after navigation start): "
        + ", ".join(f"{path}: {a}-{b}" for path, a, b in loading)
    )
    print(
        f"key to next item ({len(to_item)} items, Enter keydown to item in the DOM): "
        f"{summary(to_item)} (target median ≤ 100 ms)"
    )
    print(f"key to next item, to the next animation frame: {summary(to_paint)}")
    for name in ("label", "next", "progress"):
        spans = [ms for path, ms in resources if path == name]
        if spans:
            print(f"  request {name}: {summary(spans)}")
    print(f"key to next item, seen from the test driver (Playwright round trips): {summary(wall)}")
    if saved:
        print("screenshots: " + ", ".join(str(p.relative_to(ROOT)) for p in saved))
    print(
        json.dumps(
            {
                "startup_s": round(startup, 3),
                "first_next_ms": round(next_timing[0], 1),
                "first_item_on_screen_ms": round(first_on_screen, 1),
                "key_to_item_median_ms": round(statistics.median(to_item), 1),
                "key_to_paint_median_ms": round(statistics.median(to_paint), 1),
                "showcase_pair": showcase,
            }
        )
    )


if __name__ == "__main__":
    main()

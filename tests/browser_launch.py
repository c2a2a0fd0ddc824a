"""How Referee's browser checks start Chromium: Debian's binary, headless, nothing downloaded.

This is test tooling, so it lives with the tests, not in the package: the browser tests
(``tests/web/conftest.py``) and the review page benchmark (``bench/review_page.py``, which puts
the repository root on ``sys.path`` as the other bench scripts do) start the same browser with
the same flags, so the page that is measured is the page that is tested. Set
``REFEREE_TEST_CHROMIUM`` to use another binary.
"""

from __future__ import annotations

import os
from typing import Any

CHROMIUM = os.environ.get("REFEREE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",  # runs as root in containers and CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no requests but the page's own
    "--disable-component-update",
    "--disable-sync",
)


def launch_chromium(playwright: Any) -> Any:
    """A headless Chromium browser from a started ``sync_playwright()`` (close it when done)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))


__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "launch_chromium"]

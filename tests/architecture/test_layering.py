"""The domain packages keep I/O out of their pure logic."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

PURE_MODULES = [
    "calibration.agreement",
    "calibration.krippendorff",
    "calibration.dawid_skene",
    "calibration.annotators",
    "calibration.policy",
    "calibration.thresholds",
    "calibration.calibrator",
    "calibration.judge_report",
    "routing.router",
    "routing.spot_check",
    "routing.spot_check_estimate",
    "routing.active_selection",
    "routing.cost",
    "judge.mapping",
    "judge.injection",
    "workers.outcomes",  # the worker's decision logic: statuses and a job's final status
    "calibration.cascade",
    "calibration.posterior",
]
FORBIDDEN = ["sqlalchemy", "celery", "litellm", "httpx", "redis", "psycopg", "referee"]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_io(module: str) -> None:
    code = (
        f"import sys, {module}; "
        f"bad = [m for m in {FORBIDDEN!r} if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"


WIRING_BELOW_THE_CLI = [
    "referee.routing_store",
    "referee.export.release",
    "referee.export.build",
    "referee.review.final_labels",
    "referee.ingest.importer",
    "referee.status",
    "referee.db.engine",
]


@pytest.mark.parametrize("module", WIRING_BELOW_THE_CLI)
def test_storage_and_services_do_not_import_the_cli(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "bad = sorted(m for m in sys.modules if m.startswith(('referee.cli', 'typer'))); "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"


# Every module of the domain packages, found on disk (a new module is covered without a list).
REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("judge", "routing", "calibration", "workers")
DOMAIN_MODULES = sorted(
    [*PACKAGES]
    + [
        info.name
        for package in PACKAGES
        for info in pkgutil.walk_packages([str(REPO / package)], prefix=f"{package}.")
    ]
)
LIVE_PROVIDER = ("aiohttp", "instructor", "openai", "litellm", "httpx")
WEB = ("fastapi", "starlette", "uvicorn")
CLI_AND_WEB = ("typer", "referee.cli", "referee.web", "referee.api")
STORAGE = ("sqlalchemy", "psycopg", "redis", "celery", "referee")
# What each package never imports, directly or not.
NEVER: dict[str, tuple[str, ...]] = {
    "calibration": (*LIVE_PROVIDER, *WEB, *CLI_AND_WEB, *STORAGE, "judge", "routing", "workers"),
    "routing": (*LIVE_PROVIDER, *WEB, *CLI_AND_WEB, *STORAGE, "judge", "workers"),
    "judge": (*LIVE_PROVIDER, *WEB, *CLI_AND_WEB, *STORAGE, "routing", "calibration", "workers"),
    # workers build live judges when a chunk runs, never at import
    "workers": (*LIVE_PROVIDER, *WEB, *CLI_AND_WEB, "routing", "calibration"),
}
# The seams that may import what their package otherwise never does.
ALLOWED: dict[str, tuple[str, ...]] = {
    "judge.llm": LIVE_PROVIDER,  # the live provider: litellm + instructor
    "judge.openai_http": LIVE_PROVIDER,  # the direct route: aiohttp + the openai SDK's types
    "judge.pricing": LIVE_PROVIDER,  # litellm's price map
}
NEVER_ANYWHERE_BUT = {"celery": ("workers.celery_app",)}
# Variables third-party libraries set for themselves when imported (scikit-learn's OpenMP flags).
THIRD_PARTY_ENV = {"KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK"}
_PROBE = (
    "import importlib, json, os, sys\n"
    "before = dict(os.environ)\n"
    "importlib.import_module(sys.argv[1])\n"
    "changed = sorted(k for k in set(os.environ) | set(before) if os.environ.get(k) != before.get(k))\n"
    "print(json.dumps([sorted(sys.modules), changed]))\n"
)


def _matches(module: str, names: tuple[str, ...]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in names)


def test_every_domain_module_is_covered() -> None:
    on_disk = {
        ".".join(path.relative_to(REPO).with_suffix("").parts)
        for package in PACKAGES
        for path in (REPO / package).rglob("*.py")
    }
    # a package (top-level or sub-) is on disk as its __init__.py
    covered = set(DOMAIN_MODULES) | {f"{m}.__init__" for m in DOMAIN_MODULES}
    assert on_disk <= covered


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_module_imports_only_what_its_layer_allows(module: str) -> None:
    """Importing ``module`` alone pulls in nothing its package must not depend on, and sets no
    environment variable (configuration is the entry points' job)."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, module],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        # set by every entry point (referee.cli.main) before litellm is imported
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )
    imported, changed = json.loads(done.stdout.strip().splitlines()[-1])
    package = module.split(".")[0]
    never = [n for n in NEVER[package] if not _matches(n, ALLOWED.get(module, ()))]
    bad = sorted({n for m in imported for n in never if _matches(m, (n,))})
    for name, homes in NEVER_ANYWHERE_BUT.items():
        if module not in homes and any(_matches(m, (name,)) for m in imported):
            bad.append(name)
    assert bad == [], f"{module} imports {bad}"
    assert set(changed) <= THIRD_PARTY_ENV, f"importing {module} sets {changed}"


INGEST_MODULES = sorted(
    f"referee.ingest.{m.name}" for m in pkgutil.iter_modules([str(REPO / "referee" / "ingest")])
)


@pytest.mark.parametrize("module", INGEST_MODULES)
def test_ingest_never_imports_export(module: str) -> None:
    """Issue 20: the Label Studio and Argilla readers live in ingest; ingest never imports
    export (export may import ingest), so the two folders do not import each other."""
    code = (
        f"import sys, {module}; "
        "bad = sorted(m for m in sys.modules if m.startswith('referee.export')); "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"

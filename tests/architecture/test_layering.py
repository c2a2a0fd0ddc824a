"""The domain packages keep I/O out of their pure logic."""

from __future__ import annotations

import subprocess
import sys

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

"""The layering rule of ``docs/architecture.md``, checked on every module.

    adapters   referee.cli, referee.api, referee.web     (parse, call one function, print)
        |
    application  the rest of referee/                     (storage, review, export, ingest, ...)
        |
    domain     judge  routing  calibration  workers      (pure: never import referee)
               redaction  formats
        |
    kernel     kernel.errors: the root of the exception tree (imports nothing of ours)

An arrow points from a layer to the ones it may import: adapters import the application and the
domain, the application imports the domain, the domain imports no layer above it, and every
layer may import the kernel. Inside the
domain, ``routing`` may import ``calibration`` and ``workers`` may import ``judge``; nothing else
crosses; ``formats`` may import ``judge`` (its label vocabulary). :func:`test_every_module_imports_only_what_its_layer_allows` reads every module's
imports (lazy ones in functions and ``TYPE_CHECKING`` blocks too); the probes below also import
each domain module for real and check what it drags in at run time (I/O libraries, env vars).
"""

from __future__ import annotations

import ast
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

# Every module of the domain packages, found on disk (a new module is covered without a list).
REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("judge", "routing", "calibration", "workers", "redaction", "formats")
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
    # workers build live judges when a chunk runs, never at import; storage comes in through
    # workers.ports.JobStore, implemented in referee.jobs
    "workers": (*LIVE_PROVIDER, *WEB, *CLI_AND_WEB, *STORAGE, "routing", "calibration"),
    # detection and pseudonyms only: the vault (database, key) is referee.privacy
    "redaction": (
        *LIVE_PROVIDER,
        *WEB,
        *CLI_AND_WEB,
        *STORAGE,
        "judge",
        "routing",
        "calibration",
        "workers",
        "formats",
    ),
    # file formats read and written: plain rows in and out, no storage
    "formats": (
        *LIVE_PROVIDER,
        *WEB,
        *CLI_AND_WEB,
        *STORAGE,
        "routing",
        "calibration",
        "workers",
        "redaction",
    ),
}
# The seams that may import what their package otherwise never does.
ALLOWED: dict[str, tuple[str, ...]] = {
    "judge.llm": LIVE_PROVIDER,  # the live provider: litellm + instructor
    "judge.openai_http": LIVE_PROVIDER,  # the direct route: aiohttp + the openai SDK's types
    "judge.pricing": LIVE_PROVIDER,  # litellm's price map
    "workers.celery_app": ("celery", "redis"),  # the Celery app: its broker is Redis
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


# -- the static rule, on every module of the five packages ---------------------------------------

ADAPTERS = ("referee.cli", "referee.api", "referee.web")
DOMAIN = ("judge", "routing", "calibration", "workers", "redaction", "formats")
#: the domain packages each domain package may import (besides itself)
DOMAIN_MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "calibration": (),
    "routing": ("calibration",),
    "judge": (),
    "workers": ("judge",),
    "redaction": (),
    "formats": ("judge",),
}
OURS = ("referee", *DOMAIN, "kernel")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


ALL_MODULES = {
    _module_name(path): path for package in OURS for path in sorted((REPO / package).rglob("*.py"))
}


def _imports(module: str, path: Path) -> set[str]:
    """Every module ``path`` names in an import statement, wherever the statement is."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the importing package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.add(node.module)
    return found


def layer_of(module: str) -> str:
    """``adapter``, ``application`` or the domain package's name."""
    if _matches(module, ADAPTERS):
        return "adapter"
    top = module.split(".")[0]
    return "application" if top == "referee" else top


def may_import(importer: str, imported: str) -> bool:
    """The rule of the diagram: may module ``importer`` import module ``imported``?"""
    src, dst = layer_of(importer), layer_of(imported)
    if imported.split(".")[0] not in OURS:
        # third-party and the standard library: the runtime probes above judge the domain's;
        # the CLI's library belongs to the CLI
        return src == "adapter" or imported.split(".")[0] != "typer"
    if dst == "kernel":
        return True
    if src == "kernel":
        return False
    if src == "adapter":
        return True
    if src == "application":
        return dst != "adapter"
    return dst == src or dst in DOMAIN_MAY_IMPORT[src]


def test_the_static_check_sees_every_module() -> None:
    assert len(ALL_MODULES) > 150
    assert {"workers.ports", "referee.jobs.sql_store", "referee.errors"} <= set(ALL_MODULES)
    assert not any(m.startswith("workers.store") for m in ALL_MODULES)  # moved to referee.jobs


def test_the_rule_says_what_the_diagram_says() -> None:
    assert may_import("referee.cli.jobs", "referee.jobs.sql_store")
    assert may_import("referee.jobs.sql_store", "workers.ports")
    assert not may_import("workers.context", "referee.db.engine")
    assert not may_import("referee.review.pause", "referee.api.deps")
    assert not may_import("judge.pipeline", "routing.router")
    assert may_import("routing.router", "calibration.policy")
    assert not may_import("calibration.policy", "routing.router")
    assert not may_import("referee.export.release", "typer")
    assert may_import("judge.errors", "kernel.errors")
    assert not may_import("kernel.errors", "judge.errors")


@pytest.mark.parametrize("module", sorted(ALL_MODULES))
def test_every_module_imports_only_what_its_layer_allows(module: str) -> None:
    bad = sorted(m for m in _imports(module, ALL_MODULES[module]) if not may_import(module, m))
    assert bad == [], f"{module} ({layer_of(module)}) imports {bad}: see docs/architecture.md"


BUILTIN_EXCEPTIONS = {
    "Exception", "ValueError", "RuntimeError", "KeyError", "LookupError", "OSError", "TypeError",
    "PermissionError", "ArithmeticError",
}  # fmt: skip


def _roots(path: Path) -> list[str]:
    """Classes in ``path`` whose only bases are built-in exceptions: roots of their own tree."""
    return [
        node.name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and node.bases
        and all(isinstance(b, ast.Name) and b.id in BUILTIN_EXCEPTIONS for b in node.bases)
    ]


def test_one_exception_root() -> None:
    """Every error we define descends from kernel.errors.RefereeError (a class may add a
    built-in base beside ours, e.g. ``SettingsError(UserError, ValueError)``)."""
    roots = {m: _roots(path) for m, path in ALL_MODULES.items()}
    assert {m: r for m, r in roots.items() if r} == {"kernel.errors": ["RefereeError"]}


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

# The checks CI runs (.ci/run), in the same order, for anyone to run locally: `make check`.
# Cheap checks first (lint, types, docs), then the slow statistical simulations as their own
# group, then the rest of the tests in parallel (its summary is the run's closing line). Every step fails the build on a non-zero exit; pytest's
# "no tests collected" (exit 5) is a failure too, so a filter that selects nothing cannot pass.

PY ?= .venv/bin/python
# -n auto: one pytest-xdist worker per core
WORKERS ?= auto
# worksteal: an idle worker takes queued tests from a busy one (a few tests run for a minute)
PYTEST = $(PY) -m pytest -n $(WORKERS) --dist worksteal -p no:cacheprovider

.PHONY: check lint types docs test slow

check: lint types docs slow test

lint:
	$(PY) -m ruff check .

types:
	LITELLM_LOCAL_MODEL_COST_MAP=True $(PY) -m mypy

# no --quiet: it hides the warnings that --strict turns into a failure (a broken link would pass)
docs:
	site=$$(mktemp -d) && NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict \
	  --site-dir "$$site"; status=$$?; rm -rf "$$site"; exit $$status

test:
	LITELLM_LOCAL_MODEL_COST_MAP=True $(PYTEST) -m "not slow"

slow:
	LITELLM_LOCAL_MODEL_COST_MAP=True $(PYTEST) -m slow

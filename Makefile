# pis2 developer and CI entry points.
#   make run    - install, migrate + deploy processes + seed demo data, serve on http://127.0.0.1:5000
#   make test   - both database lanes: SQLite, then a throw-away PostgreSQL 15 (tests/pg_server.py)
#   make lint   - ruff + import contracts + mypy + eslint on the page scripts
#   make bench  - benchmarks

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.pis2-installed
PIS2   := $(BIN)/pis2
FLASK  := $(BIN)/flask
ARTIFACTS := test-artifacts
# Extra pytest arguments for both lanes, e.g. make test PYTEST_ARGS="-x -k casefile"
PYTEST_ARGS ?=
# pytest-xdist workers per lane: one per core ("auto"); PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv assets translations db run test lint bench

help:
	@echo "targets: venv assets db run test lint bench"

# --- environment -------------------------------------------------------------------------------

venv: $(STAMP)

# Re-installs when pyproject.toml changes; otherwise a no-op.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -qq --progress-bar off -e '.[test]'
	@touch $@

# Compiled message catalogues (.mo) are build output: made from the committed .po files.
PO_FILES := $(wildcard webapp/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
translations: $(MO_FILES)
webapp/translations/%/LC_MESSAGES/messages.mo: webapp/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@ >/dev/null

# Front-end packages: nothing to do until the repository has a package.json.
assets:
	@if [ ! -f package.json ]; then \
		echo "assets: no package.json, nothing to install"; \
	elif [ -f node_modules/.pis2-stamp ] && [ node_modules/.pis2-stamp -nt package.json ] \
		&& { [ ! -f package-lock.json ] || [ node_modules/.pis2-stamp -nt package-lock.json ]; }; then \
		echo "assets: node_modules up to date"; \
	else \
		if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; \
		else npm install --no-audit --no-fund; fi \
		&& npm run --if-present build \
		&& touch node_modules/.pis2-stamp; \
	fi

# --- running -----------------------------------------------------------------------------------

db: venv translations
	$(PIS2) db upgrade
	$(PIS2) processes deploy processes
	$(PIS2) demo seed

# The worker runs in the background for as long as the web server does; stopping the server
# (Ctrl-C, SIGTERM or its own exit) stops the worker too.
run: venv assets translations db
	@$(PIS2) worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null; echo "worker stopped"' EXIT; \
	trap 'exit 130' INT TERM; \
	echo "worker pid $$worker; web server on http://127.0.0.1:5000"; \
	$(FLASK) --app webapp:create_app run --host 127.0.0.1 --port 5000

# --- checks ------------------------------------------------------------------------------------

# Reads each lane's JUnit report and prints "<lane> lane <STATUS>: N passed, N failed, N skipped",
# then a "total:" line over both lanes. Arguments: LANE REPORT PYTEST_EXIT, repeated.
define LANE_SUMMARY
import sys
import xml.etree.ElementTree as ET

args = sys.argv[1:]
total = {"passed": 0, "failed": 0, "skipped": 0}
for lane, report, rc in zip(args[0::3], args[1::3], map(int, args[2::3]), strict=True):
    status = {0: "PASSED", 5: "NO TESTS RAN"}.get(rc, f"FAILED (pytest exit {rc})")
    try:
        root = ET.parse(report).getroot()
    except (OSError, ET.ParseError):
        print(f"{lane} lane {status}: no report written")
        continue
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    failed = n["failures"] + n["errors"]
    lane_counts = {"passed": n["tests"] - failed - n["skipped"], "failed": failed, "skipped": n["skipped"]}
    for key, value in lane_counts.items():
        total[key] += value
    print(f"{lane} lane {status}: " + ", ".join(f"{v} {k}" for k, v in lane_counts.items()))
print("total: " + ", ".join(f"{v} {k}" for k, v in total.items()))
endef
export LANE_SUMMARY

# Both lanes always run; the target fails if either lane fails (pytest's "no tests" exit 5 is not
# a failure). The PostgreSQL lane starts its own throw-away server (tests/pg_server.py).
test: venv assets translations
	@mkdir -p $(ARTIFACTS); rm -f $(ARTIFACTS)/junit-sqlite.xml $(ARTIFACTS)/junit-postgres.xml; \
	echo "=== lane 1/2: SQLite ==="; \
	sqlite_rc=0; PIS2_TEST_DB=sqlite $(BIN)/pytest -q -n $(PYTEST_WORKERS) --junitxml=$(ARTIFACTS)/junit-sqlite.xml \
		$(PYTEST_ARGS) || sqlite_rc=$$?; \
	echo "=== lane 2/2: PostgreSQL ==="; \
	pg_rc=0; PIS2_TEST_DB=postgres $(BIN)/pytest -q -n $(PYTEST_WORKERS) -m "not sqlite_only" \
		--junitxml=$(ARTIFACTS)/junit-postgres.xml $(PYTEST_ARGS) || pg_rc=$$?; \
	echo "=== summary ==="; \
	$(BIN)/python -c "$$LANE_SUMMARY" sqlite $(ARTIFACTS)/junit-sqlite.xml $$sqlite_rc \
		postgres $(ARTIFACTS)/junit-postgres.xml $$pg_rc; \
	for rc in $$sqlite_rc $$pg_rc; do [ $$rc -eq 0 ] || [ $$rc -eq 5 ] || exit 1; done

lint: venv assets
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	npm run --silent lint

bench: venv
	$(BIN)/python -m bench

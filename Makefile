# Deskmate: `make run` serves the console, `make test` runs the whole suite.
# Both create .venv and install what they need on first use. A test run leaves the
# checkout as it was; `make screenshots` is the one target that rewrites docs/screenshots.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP  := $(VENV)/.stamp-run
TEST_STAMP := $(VENV)/.stamp-test

.PHONY: run test lint bench screenshots clean help

help:
	@echo "make run          serve the console at https://127.0.0.1:8443 (data in ./var)"
	@echo "make test         run the whole test suite"
	@echo "make lint         ruff and mypy"
	@echo "make bench        run the benchmarks in bench/"
	@echo "make screenshots  retake the screenshots in docs/screenshots (Chromium, Xvfb)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Deskmate needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || \
	  { echo "python3 -m venv failed: on Debian, 'apt-get install python3-venv' first"; \
	    rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint,postgres]'
	@touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/deskmate-server run

# pytest exits 5 when it collected no tests; make treats that as the failure it is.
# One worker per core; a test file stays on one worker (its module fixtures are shared).
# Files go out in the order tests/conftest.py gives them (longest first), not xdist's.
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder

lint: $(TEST_STAMP)
	$(BIN)/ruff check server shared endpoint_agent tests bench
	$(BIN)/mypy

bench: $(TEST_STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The console pages from sample data, then the tests marked `screenshots` (remote
# viewer, tray, health) with DESKMATE_SCREENSHOTS pointing them at docs/screenshots.
screenshots: $(TEST_STAMP)
	$(BIN)/python -m tests.console.make_screenshots --out docs/screenshots
	DESKMATE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -m screenshots

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# The two commands: `make demo` and `make test`. Both set up .venv first, installing the
# versions pinned in requirements.lock (`make lock` re-resolves it from pyproject.toml).
# Needs Python 3.11+ (python3, or PYTHON=...) and Java 17+ (for Spark).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATE ?=
TRANSACTIONS ?= 100000
LOCK := requirements.lock
LOCK_FLAGS ?=
# the suite runs on two workers (pytest-xdist), a test file each: most e2e time waits on daemons
# and subprocesses, and 2 workers on 2 cores took the suite from 31 to 22 minutes (docs/performance.md)
TEST_WORKERS ?= 2

.PHONY: demo test browser dev bench status lint stop clean lock

# re-run when the dependencies or their pins change
$(VENV)/.installed: pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "bank_assets needs Python 3.11+; set PYTHON=...")'
	@command -v java >/dev/null || { echo "bank_assets needs Java 17+ for Spark (java not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[dev]'
	@touch $@

demo: $(VENV)/.installed  ## simulate one day and materialize every asset of it
	$(BIN)/bank-assets demo $(if $(DATE),--date $(DATE)) --transactions $(TRANSACTIONS)

test: $(VENV)/.installed browser  ## lint, load the definitions (dg), then the whole suite (slow tests too)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DAGSTER_HOME=$$(mktemp -d) VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/dg check defs
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

# The browser test (bank_assets_tests/e2e/browser.py, run by test_running_deployment.py) drives
# Debian's chromium through the
# chromedriver of the same package version; installed here, as root, where missing.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  test "$$(id -u)" = 0 || { echo "the browser test needs chromium + chromedriver: run 'make browser' as root"; exit 1; }; \
	  command -v apt-get >/dev/null || { echo "install chromium and its chromedriver (the browser test needs both)"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

dev: $(VENV)/.installed  ## Dagster UI: webserver + daemon on the embedded stack
	$(BIN)/bank-assets dev

bench: $(VENV)/.installed  ## 1,000,000 transactions end to end
	$(BIN)/bank-assets bench --transactions 1000000

status: $(VENV)/.installed
	$(BIN)/bank-assets status

lint: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

stop: $(VENV)/.installed  ## stop the embedded PostgreSQL server
	$(BIN)/bank-assets stop

lock:  ## re-resolve requirements.lock after editing pyproject.toml (LOCK_FLAGS=--upgrade: newest allowed)
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet -c $(LOCK) uv; }
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --universal --python-version 3.11 $(LOCK_FLAGS) -o $(LOCK)

clean:  ## remove the virtual environment and all local state (lake, warehouse, Dagster)
	rm -rf $(VENV) .bank_assets

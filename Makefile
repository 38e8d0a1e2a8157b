# Lune Academy — the two commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# nbgrader runs the `alembic` executable when it creates a gradebook: the venv must be on PATH.
export PATH := $(BIN):$(PATH)
export NO_MKDOCS_2_WARNING := 1
# Debian packages the tests and the sandbox need (chromium: the portal's browser tests).
SYSTEM_PACKAGES := bubblewrap chromium

.PHONY: demo test lint format bench docs setup system-deps clean translations

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The portal's message catalogs, compiled from the committed .po files.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard web/translations/*/LC_MESSAGES/messages.po))

%.mo: %.po $(STAMP)
	$(BIN)/pybabel --quiet compile -f -i $< -o $@

translations: $(MO_FILES)

setup: $(STAMP) translations

# Installs what is missing, as root or through sudo; never prompts.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null \
	    || { $$SUDO apt-get update -q >/dev/null && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null; }; \
	fi

demo: $(STAMP) translations
	$(BIN)/lune demo

test: $(STAMP) translations system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mkdocs build --strict --quiet --site-dir $(CURDIR)/build/site
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir $(CURDIR)/build/site

clean:
	rm -rf build .pytest_cache .ruff_cache .hypothesis

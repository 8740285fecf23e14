# make run   installs into .venv and runs the portal on embedded defaults (SQLite, built-in provider,
#            local Celery worker and beat), printing the URL and the demo login.
# make test  installs what the suite needs (Python packages, chromium, PostgreSQL, Redis), starts
#            PostgreSQL and Redis when they are not running, and runs the whole suite against them, on a
#            test database made afresh (a run killed midway leaves rows that --reuse-db would keep).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

# Browser libraries the portal serves itself, pinned in package.json and package-lock.json.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "Installing npm from Debian's packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The translations: locale/<code>/LC_MESSAGES/django.po compiled to .mo (not committed).
messages: $(VENV)/.installed
	@command -v msgfmt >/dev/null || { echo "Installing gettext from Debian's packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

run: $(VENV)/.installed node_modules/.installed messages
	$(BIN)/python manage.py runportal

test: $(VENV)/.installed-dev node_modules/.installed messages
	$(BIN)/ruff check .
	bash .ci/services
	PORTAL_VAR_DIR=$$(mktemp -d) $(BIN)/python manage.py makemigrations --check --dry-run
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python -m pytest --create-db -n 2 --dist loadgroup $(PYTEST_ARGS)

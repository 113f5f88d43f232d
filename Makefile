# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATABASE_URL_TEST ?= postgres://postgres@127.0.0.1:5432/credit
REDIS_URL_TEST ?= redis://127.0.0.1:6379/0

.PHONY: run test lint venv messages

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is needed (Python 3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

# The compiled translations (README, "Languages"): locale/*/LC_MESSAGES/django.mo from the .po
# files, with the venv's Babel; no GNU gettext needed. The .mo files are not committed.
messages: $(STAMP)
	$(PY) tools/compile_messages.py

# The product on an embedded SQLite database in var/, tasks run in-process, demo data seeded.
run: $(STAMP) messages
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py migrate --noinput
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py seed_demo
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py runserver 127.0.0.1:8000

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Lint and the layer contract ([tool.importlinter] in pyproject.toml), then, against the real
# PostgreSQL and Redis: no model change without its migration, and the whole suite.
test: $(STAMP) messages
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} REDIS_URL=$${REDIS_URL:-$(REDIS_URL_TEST)} \
		$(PY) tools/services_reachable.py
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} REDIS_URL=$${REDIS_URL:-$(REDIS_URL_TEST)} \
		$(PY) manage.py makemigrations --check --dry-run --settings=config.settings.test
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} REDIS_URL=$${REDIS_URL:-$(REDIS_URL_TEST)} \
		$(VENV)/bin/pytest $(PYTEST_ARGS)

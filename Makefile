# The two commands: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run test install assets translations lint migrate-check test-sqlite test-postgres \
        migration extract-messages serve bench bench-prod clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d app/translations >/dev/null

install: $(VENV)/.installed node_modules/.installed translations

assets: node_modules/.installed

# make run is the development server: plain http on this machine, links point at it
run: export ENVIRONMENT ?= development
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(BIN)/python -m app.instance
	$(BIN)/flask db upgrade
	$(BIN)/flask keys ensure
	$(BIN)/flask demo seed --if-empty
	$(BIN)/flask demo logins
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# make serve is the production server (gunicorn.conf.py; docs/deployment.md): secrets from
# instance/config.py or the environment, migrations first, then the workers
serve: export ENVIRONMENT := production
serve: export PORT := $(PORT)
serve: install
	$(BIN)/python -m app.instance
	$(BIN)/flask db upgrade
	$(BIN)/flask keys ensure
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# the production proofs (benchmarks/README.md): two instances on one PostgreSQL with a
# crash, load, faults; about four minutes; fails when a correctness check fails
bench-prod: install
	$(BIN)/python -m benchmarks.cluster
	$(BIN)/python -m benchmarks.load
	$(BIN)/python -m benchmarks.faults

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# a fresh database, migrated from nothing; then models and migrations must agree
migrate-check: install
	@tmp=$$(mktemp -d); \
	DATABASE_URL=sqlite:///$$tmp/check.db ENVIRONMENT=development $(BIN)/flask db upgrade && \
	DATABASE_URL=sqlite:///$$tmp/check.db ENVIRONMENT=development $(BIN)/flask db check; \
	status=$$?; rm -rf $$tmp; exit $$status

test-sqlite: install
	$(BIN)/python -m pytest --db=sqlite $(PYTEST_ARGS)

test-postgres: install
	$(BIN)/python -m pytest --db=postgres $(PYTEST_ARGS)

test: lint migrate-check test-sqlite test-postgres

# regenerate the single initial migration from the models (only while nothing has shipped)
migration: install
	@tmp=$$(mktemp -d); rm -f migrations/versions/*.py; \
	DATABASE_URL=sqlite:///$$tmp/gen.db ENVIRONMENT=development \
	  $(BIN)/flask db migrate -m "initial schema" --rev-id 0001 >/dev/null; \
	rm -rf $$tmp; $(BIN)/ruff format -q migrations/versions || true; ls migrations/versions

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -o app/translations/messages.pot . 2>/dev/null
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching 2>/dev/null

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache

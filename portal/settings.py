"""Stackdesk settings: one file, driven by environment variables.

With no environment at all the portal runs on SQLite with an embedded Celery broker
(kombu's SQLAlchemy transport on a second SQLite file), so a bare checkout needs nothing
else. DATABASE_URL switches to PostgreSQL, REDIS_URL to Redis for the broker and cache.
Secrets are never in this file: they come from the environment or are generated once
into the state folder (STACKDESK_STATE).
"""

import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from xstatic.pkg import bootstrap as xstatic_bootstrap

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("STACKDESK_STATE", BASE_DIR / ".state"))
STATE_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
# The state folder holds secrets, uploads and the file cache: no one else may read it. A
# folder made before (or by `mkdir -p`) is tightened if it is ours; group bits are left to the
# operator (a worker may run as another user of the same group).
if STATE_DIR.stat().st_uid == os.geteuid() and STATE_DIR.stat().st_mode & 0o007:
    STATE_DIR.chmod(STATE_DIR.stat().st_mode & 0o770)


def _state_secret(env_name: str, filename: str, generate: str) -> str:
    """A secret from the environment, or generated once into the state folder (mode 0600)."""
    if value := os.environ.get(env_name):
        return value
    path = STATE_DIR / filename
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(generate)
    return path.read_text().strip()


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def _networks(name: str, default: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated addresses or networks; a typo stops the portal with the entry named."""
    found = []
    for entry in filter(None, (e.strip() for e in os.environ.get(name, default).split(","))):
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {entry!r} is not an address or network.") from exc
    return found


SECRET_KEY = _state_secret("DJANGO_SECRET_KEY", "secret_key", secrets.token_urlsafe(50))
# Fernet key that encrypts stored Keystone tokens (sessions and operations).
CREDENTIAL_KEY = _state_secret(
    "STACKDESK_CREDENTIAL_KEY", "credential_key", Fernet.generate_key().decode()
)
DEBUG = _env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "portal",
    "projects",
    "quotas",
    "images",
    "network",
    "compute",
    "volumes",
    "capacity",
    "monitoring",
]

MIDDLEWARE = [
    "portal.metrics.RequestMetricsMiddleware",  # first: its time is the whole answer's
    "django.middleware.security.SecurityMiddleware",
    "portal.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.identity.KeystoneSessionMiddleware",
    "portal.preferences.PreferencesMiddleware",
    "portal.error_pages.CloudErrorMiddleware",
    # innermost: it sees the view's cloud errors before the error pages turn them into pages
    "portal.audit.AuditMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "portal.navigation.context",
            ],
            "builtins": [
                "django.templatetags.i18n",
                "django.templatetags.static",
                "django_htmx.templatetags.django_htmx",
                "template_partials.templatetags.partials",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{STATE_DIR / 'portal.sqlite3'}", conn_max_age=60
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(STATE_DIR / "cache"),
        }
    }

# Sessions live in the database; the cookie carries only the session key. The Keystone
# token inside the session is encrypted again with CREDENTIAL_KEY (portal/crypto.py).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24

# --- HTTPS and browser hardening -------------------------------------------------------------
# STACKDESK_HTTPS: the portal is reached over HTTPS only (directly or through a TLS proxy).
# Cookies are then sent over HTTPS only and browsers are told to use nothing else for a year
# (HSTS). STACKDESK_SECURE_COOKIES is its older name. Behind a TLS-terminating proxy set
# STACKDESK_PROXY_SSL_HEADER=1 so that the proxy's X-Forwarded-Proto says whether the browser
# used HTTPS; only do so when the proxy sets that header itself, or anyone could claim HTTPS.
STACKDESK_HTTPS = _env_bool("STACKDESK_HTTPS", _env_bool("STACKDESK_SECURE_COOKIES", False))
SESSION_COOKIE_SECURE = STACKDESK_HTTPS
CSRF_COOKIE_SECURE = STACKDESK_HTTPS
SECURE_HSTS_SECONDS = (
    int(os.environ.get("STACKDESK_HSTS_SECONDS", "31536000")) if STACKDESK_HTTPS else 0
)
SECURE_SSL_REDIRECT = STACKDESK_HTTPS and _env_bool("STACKDESK_SSL_REDIRECT", False)
if _env_bool("STACKDESK_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz answers plain HTTP to scripts on the host even when everything else redirects.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The console iframe's origins for the Content-Security-Policy (portal/security.py), comma
# separated, e.g. "https://console.example.org:6080"; empty: each cloud's Keystone host.
STACKDESK_CONSOLE_ORIGINS = [
    o for o in os.environ.get("STACKDESK_CONSOLE_ORIGINS", "").split(",") if o
]

# --- Sign-in throttle (portal/throttle.py) -----------------------------------------------------
STACKDESK_SIGNIN_USER_FAILURES = int(os.environ.get("STACKDESK_SIGNIN_USER_FAILURES", "5"))
STACKDESK_SIGNIN_ADDRESS_FAILURES = int(os.environ.get("STACKDESK_SIGNIN_ADDRESS_FAILURES", "20"))
STACKDESK_SIGNIN_WINDOW = int(os.environ.get("STACKDESK_SIGNIN_WINDOW", "300"))
STACKDESK_SIGNIN_LOCKOUT = int(os.environ.get("STACKDESK_SIGNIN_LOCKOUT", "60"))
# Reverse proxies (addresses or networks, comma separated) whose X-Forwarded-For is believed;
# empty: the client is REMOTE_ADDR.
STACKDESK_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("STACKDESK_TRUSTED_PROXIES", "").split(",") if p.strip()
]
# Whether a failed sign-in may say that the domain does not exist (when the service user can
# tell). Off: an unknown domain gets the same answer as a wrong password, so anonymous users
# cannot list the cloud's domains.
STACKDESK_SIGNIN_REVEALS_DOMAINS = _env_bool("STACKDESK_SIGNIN_REVEALS_DOMAINS", False)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STACKDESK_STATIC_ROOT", STATE_DIR / "static"))
# Bootstrap comes from the XStatic-Bootstrap package (how OpenStack ships web assets on PyPI);
# htmx from django-htmx. Nothing is loaded from a CDN.
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", xstatic_bootstrap.BASE_DIR)]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve from the finders too, so a checkout works before collectstatic has run.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- OpenStack -------------------------------------------------------------------------
# Clouds come from a clouds.yaml (openstacksdk's search path, or OS_CLIENT_CONFIG_FILE), or
# from OS_AUTH_URL-style variables. STACKDESK_CLOUDS limits which clouds.yaml entries are
# offered at sign-in (comma separated); only their auth_url, region and interface are used,
# never their credentials, except STACKDESK_SERVICE_CLOUD: the portal's own service user.
STACKDESK_CLOUDS = [c for c in os.environ.get("STACKDESK_CLOUDS", "").split(",") if c]
STACKDESK_SERVICE_CLOUD = os.environ.get("STACKDESK_SERVICE_CLOUD", "")
STACKDESK_DEFAULT_DOMAIN = os.environ.get("STACKDESK_DEFAULT_DOMAIN", "Default")
# Seconds before the token's real expiry at which the session is treated as expired, so a
# page never starts work with a token that dies half-way.
STACKDESK_TOKEN_MARGIN = int(os.environ.get("STACKDESK_TOKEN_MARGIN", "30"))
# Seconds a Keystone "this token is valid" answer is trusted before it is asked again, so a
# token revoked in Keystone stops working in the portal within this time (sessions and API).
STACKDESK_TOKEN_RECHECK_SECONDS = int(os.environ.get("STACKDESK_TOKEN_RECHECK_SECONDS", "60"))
STACKDESK_CLOUD_TIMEOUT = float(os.environ.get("STACKDESK_CLOUD_TIMEOUT", "30"))
# Prometheus that scrapes RabbitMQ, MariaDB and Ceph (monitoring/): System Health shows them
# when set, e.g. the all-in-one's http://127.0.0.1:9099 (devcloud/README.md, Metrics).
STACKDESK_PROMETHEUS_URL = os.environ.get("STACKDESK_PROMETHEUS_URL", "").rstrip("/")
if STACKDESK_PROMETHEUS_URL and not STACKDESK_PROMETHEUS_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        f"STACKDESK_PROMETHEUS_URL: {STACKDESK_PROMETHEUS_URL!r} is not an http(s) URL."
    )
# Warm lists (compute/warm.py): the instances lists are kept in the cache and refreshed with
# Nova's changes-since on every view; a full re-list this often catches what changes-since
# cannot show (an address or a volume changing leaves a server's `updated` alone). The overlap
# reads again what changed just before the newest change seen (Nova's clock, in seconds).
STACKDESK_WARM_RELIST_SECONDS = int(os.environ.get("STACKDESK_WARM_RELIST_SECONDS", "300"))
STACKDESK_WARM_OVERLAP_SECONDS = int(os.environ.get("STACKDESK_WARM_OVERLAP_SECONDS", "2"))
# A view this soon after another view's delta of the same list shows that list, asking nothing.
STACKDESK_WARM_FRESH_SECONDS = float(os.environ.get("STACKDESK_WARM_FRESH_SECONDS", "1"))

# --- Celery (long jobs) ----------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or f"sqlalchemy+sqlite:///{STATE_DIR / 'broker.sqlite3'}"
CELERY_TASK_IGNORE_RESULT = True  # progress lives on the Operation row, not a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("STACKDESK_TASK_SOFT_TIME_LIMIT", "3300"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("STACKDESK_TASK_TIME_LIMIT", "3600"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# An operation whose worker stopped sending heartbeats for this long is requeued (or failed
# once it has used its attempts); see portal/operations.py.
STACKDESK_OPERATION_STALE_AFTER = int(os.environ.get("STACKDESK_OPERATION_STALE_AFTER", "90"))
STACKDESK_OPERATION_HEARTBEAT = int(os.environ.get("STACKDESK_OPERATION_HEARTBEAT", "10"))
STACKDESK_OPERATION_MAX_ATTEMPTS = int(os.environ.get("STACKDESK_OPERATION_MAX_ATTEMPTS", "3"))
# The longest wait before a retry (s). A queued job untouched for STALE_AFTER + this long has
# lost its broker message (Redis restarted without persistence): the reaper sends it again.
STACKDESK_OPERATION_MAX_BACKOFF = int(os.environ.get("STACKDESK_OPERATION_MAX_BACKOFF", "300"))
# Audit records older than this are deleted by the reaper (portal/tasks.py).
STACKDESK_AUDIT_KEEP_DAYS = int(os.environ.get("STACKDESK_AUDIT_KEEP_DAYS", "365"))
# Capacity trends (capacity/tasks.py): a sample of Placement's figures and every project's quota
# usage every this many seconds, kept this many days.
STACKDESK_CAPACITY_SAMPLE_EVERY = int(os.environ.get("STACKDESK_CAPACITY_SAMPLE_EVERY", "900"))
STACKDESK_CAPACITY_KEEP_DAYS = int(os.environ.get("STACKDESK_CAPACITY_KEEP_DAYS", "60"))
CELERY_BEAT_SCHEDULE = {
    "reap-stale-operations": {
        "task": "portal.tasks.reap_operations",
        "schedule": float(os.environ.get("STACKDESK_REAP_EVERY", "30")),
    },
    # Keystone is asked about the sessions in use here, not in their page views
    # (portal/identity.py): twice an interval, so an answer is never older than half of one.
    "confirm-sessions": {
        "task": "portal.tasks.confirm_sessions",
        "schedule": max(STACKDESK_TOKEN_RECHECK_SECONDS / 2, 1),
    },
    # The warm instances lists of the sessions in use, listed in full again before a view would
    # have to (compute/warm.py: at 4/5 of the re-list age, looked at every tenth of it).
    "refresh-warm-lists": {
        "task": "compute.tasks.refresh_warm_lists",
        "schedule": max(STACKDESK_WARM_RELIST_SECONDS / 10, 1),
    },
    "sample-capacity": {
        "task": "capacity.tasks.sample_capacity",
        "schedule": float(STACKDESK_CAPACITY_SAMPLE_EVERY),
    },
}

# --- Image uploads ------------------------------------------------------------------------
# Browser uploads are appended to one file each in this folder (the web process and the worker
# must both see it), then streamed to Glance by the upload_image job.
STACKDESK_IMAGE_UPLOAD_DIR = Path(
    os.environ.get("STACKDESK_IMAGE_UPLOAD_DIR", STATE_DIR / "image-uploads")
)
STACKDESK_IMAGE_UPLOAD_MAX_BYTES = int(
    os.environ.get("STACKDESK_IMAGE_UPLOAD_MAX_BYTES", str(64 * 1024**3))
)
STACKDESK_IMAGE_UPLOAD_CHUNK_BYTES = int(
    os.environ.get("STACKDESK_IMAGE_UPLOAD_CHUNK_BYTES", str(8 * 1024**2))
)
# The upload job gives Glance up when the browser sends nothing for this long (Glance drops an
# idle request body after its own socket timeout); the upload resumes in a new job.
STACKDESK_IMAGE_UPLOAD_STALL_SECONDS = float(
    os.environ.get("STACKDESK_IMAGE_UPLOAD_STALL_SECONDS", "30")
)

# --- Usage exports ------------------------------------------------------------------------
# A usage CSV over more than this many project-days is written by a background job instead of
# streamed to the browser; job files are kept this many days.
STACKDESK_USAGE_EXPORT_STREAM_LIMIT = int(
    os.environ.get("STACKDESK_USAGE_EXPORT_STREAM_LIMIT", "400000")
)
STACKDESK_USAGE_EXPORT_KEEP_DAYS = int(os.environ.get("STACKDESK_USAGE_EXPORT_KEEP_DAYS", "7"))

# --- The portal's own metrics (portal/metrics.py, docs/operations.md) -----------------------
# GET /metrics answers clients at these addresses or networks (comma separated; behind a proxy
# named in STACKDESK_TRUSTED_PROXIES, the forwarded client) and anyone who sends
# "Authorization: Bearer <STACKDESK_METRICS_TOKEN>"; everyone else gets a 404.
STACKDESK_METRICS_ALLOWED = _networks("STACKDESK_METRICS_ALLOWED", "127.0.0.1,::1")
STACKDESK_METRICS_TOKEN = os.environ.get("STACKDESK_METRICS_TOKEN", "")
# Every web and worker process writes its counts here (prometheus_client's multiprocess mode,
# which reads the variable when first imported, so it is set before anything imports it).
PROMETHEUS_MULTIPROC_DIR = Path(
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(STATE_DIR / "metrics"))
)
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("STACKDESK_LOG_LEVEL", "INFO")},
    # keystoneauth logs request headers at DEBUG (tokens included): keep it at WARNING.
    "loggers": {"keystoneauth": {"level": "WARNING"}, "openstack": {"level": "WARNING"}},
    # django.request's server errors (exc_info included) propagate to the root's console
    # handler, so they reach stderr with their traceback whatever DEBUG says (Django's own
    # console handler writes only when DEBUG). bin/demo's gunicorn captures stderr into its log.
}

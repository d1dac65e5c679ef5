"""The Django settings: one module, read from the environment through typed helpers.

- ``CARTFLOW_DATA``: the data folder (default ``./data``): the SQLite database and the
  generated development secret key live there.
- ``DATABASE_URL``: a PostgreSQL URL; without it, SQLite in the data folder.
- ``CARTFLOW_SECRET_KEY``: the secret key; without it, one is generated once and kept in the
  data folder (fine for a demo or a single server, not for a fleet of web workers).
- ``CARTFLOW_DEBUG``: ``1`` turns Django's debug pages on (never in production).
- ``CARTFLOW_ALLOWED_HOSTS``: comma-separated host names (default: localhost only).
- ``CARTFLOW_TESTING``: set by the test suite; only then is the fast password hasher used.
- ``CARTFLOW_READ_ONLY``: ``1`` opens the SQLite database read-only and writes nothing to the
  data folder (``cartflow audit verify`` on a copy that may not be changed).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be 1/0, true/false, yes/no or on/off, got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_path(name: str, default: str) -> Path:
    return Path(env_str(name, default) or default).expanduser().resolve()


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = env_path("CARTFLOW_DATA", "./data")
TESTING = env_bool("CARTFLOW_TESTING")
READ_ONLY = env_bool("CARTFLOW_READ_ONLY")


def _secret_key() -> str:
    """The key from the environment, else a development key generated once per data folder."""
    key = env_str("CARTFLOW_SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    if READ_ONLY:
        return secrets.token_urlsafe(50)  # nothing is signed in a read-only run
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # Written owner-only: whoever reads it can forge sessions.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("CARTFLOW_DEBUG")
ALLOWED_HOSTS = env_list("CARTFLOW_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
if TESTING:
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_htmx",
    "cartflow.clinic",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session, before anything that reads the language: the choice made with the
    # language switch (a cookie), else the browser's Accept-Language, else English.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # request.htmx: one view answers the page, or the fragment an HTMX request asks for.
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "cartflow.urls"
WSGI_APPLICATION = "cartflow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cartflow.clinic.views.common.navigation",
            ],
            # {% form_once %}: a page form's one-time token (cartflow.clinic.form_once).
            "builtins": [
                "cartflow.clinic.templatetags.cartflow_forms",
                "cartflow.clinic.templatetags.cartflow_words",
            ],
        },
    },
]

SQLITE_BUSY_TIMEOUT_S = env_int("CARTFLOW_SQLITE_TIMEOUT", 20)
DB_POOL_SIZE = env_int("CARTFLOW_DB_POOL_SIZE", 0)
"""Connections per worker process on PostgreSQL; set by `cartflow serve` (0: no pool)."""


def _databases() -> dict[str, Any]:
    url = env_str("DATABASE_URL")
    if url and DB_POOL_SIZE:
        # `cartflow serve`: each worker process keeps a pool of at most DB_POOL_SIZE
        # connections (one per thread), so the server holds at most workers x threads
        # connections, busy or idle, and gives them back when it stops.
        config = dj_database_url.parse(url, conn_max_age=0)
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": DB_POOL_SIZE,
            "timeout": 30,
            "max_idle": 60,
        }
        return {"default": config}
    if url:
        # Persistent connections: a web worker reuses its connection between requests.
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        return {"default": config}
    if READ_ONLY:
        return {"default": _read_only_sqlite(DATA_DIR / "cartflow.sqlite3")}
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "default": {
            # Django's SQLite, whose writers queue for the write lock (cartflow.db.sqlite).
            "ENGINE": "cartflow.db.sqlite",
            "NAME": str(DATA_DIR / "cartflow.sqlite3"),
            "OPTIONS": {
                # SQLite ignores SELECT ... FOR UPDATE: a write transaction takes the database's
                # write lock at BEGIN (IMMEDIATE), so two appends to one case serialise instead
                # of both reading the old head. WAL lets readers run beside the one writer;
                # synchronous=FULL keeps a committed event on disk through a power cut (the log
                # is the record). The busy timeout makes the loser of a race wait, not fail.
                "transaction_mode": "IMMEDIATE",
                "timeout": SQLITE_BUSY_TIMEOUT_S,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=FULL;"
                    "PRAGMA foreign_keys=ON;"
                    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000};"
                ),
            },
        }
    }


def _read_only_sqlite(path: Path) -> dict[str, Any]:
    """The database file opened so that nothing can be written, not even a journal.

    Without a write-ahead log beside it the file is opened ``immutable`` (a copy on a
    read-only medium needs no lock files); with one, ``mode=ro`` so its pages are read too.
    """
    wal = path.with_name(path.name + "-wal")
    flag = "mode=ro" if wal.exists() else "immutable=1"
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": f"file:{path}?{flag}",
        "OPTIONS": {"uri": True, "init_command": "PRAGMA query_only=ON;"},
    }


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing a password properly takes a deliberate fraction of a second; tests log in often.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en"
# Each language named in itself on the switch, so a reader finds their own.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
# The compiled catalogues (.mo) are committed beside their sources (.po): a clone or a wheel
# serves Chinese without GNU gettext; `make messages` rebuilds both after a string changes.
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language switch remembers the choice for a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Stored times are UTC; each site carries its own IANA time zone for display and clinical time.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("CARTFLOW_LOG_LEVEL", "WARNING")},
}

# Guessing a password (cartflow.clinic.services.authentication): django-axes locks a user name
# together with an address after CARTFLOW_LOGIN_FAILURES failures, for CARTFLOW_LOCKOUT_MINUTES;
# per user name alone, only a growing delay.
INSTALLED_APPS += ["axes"]
# An optional second factor at signing: TOTP keys (cartflow.clinic.services.second_factor).
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp"]
OTP_TOTP_ISSUER = "cartflow"
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AUTHENTICATION_BACKENDS = [
    "cartflow.clinic.services.authentication.ThrottledBackend",
    "django.contrib.auth.backends.ModelBackend",
]
CARTFLOW_LOGIN_FAILURES = env_int("CARTFLOW_LOGIN_FAILURES", 10)
CARTFLOW_LOCKOUT_MINUTES = env_int("CARTFLOW_LOCKOUT_MINUTES", 15)
CARTFLOW_DELAY_FREE_FAILURES = 3
CARTFLOW_DELAY_CAP_S = 0.0 if TESTING else 4.0  # tests ask for the delay, never wait it
AXES_FAILURE_LIMIT = CARTFLOW_LOGIN_FAILURES + 1  # the 11th wrong password locks
AXES_COOLOFF_TIME = timedelta(minutes=CARTFLOW_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # the audit trail records logins
AXES_COOLOFF_MESSAGE = (
    f"Too many wrong passwords for this user from this address: signing in is locked for "
    f"{CARTFLOW_LOCKOUT_MINUTES} minutes, even with the right password. An administrator can "
    f"unlock it."
)
# The address is the connection's: a forwarded-for header is the client's to forge.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# A session ends after CARTFLOW_SESSION_IDLE_MINUTES without a request; a request renews it
# (at most once a minute: cartflow.session_idle).
SESSION_COOKIE_AGE = env_int("CARTFLOW_SESSION_IDLE_MINUTES", 30) * 60
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
    "cartflow.session_idle.IdleSessionMiddleware",
)
# API tokens expire (cartflow.clinic.services.tokens).
CARTFLOW_TOKEN_DAYS = env_int("CARTFLOW_TOKEN_DAYS", 90)

# `cartflow serve` (a production server): static files from the application itself, and over
# HTTPS (`--https`, behind a proxy that terminates TLS) cookies that never travel in clear
# and HSTS. `make demo` and the tests stay on plain http.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
WHITENOISE_USE_FINDERS = True
if not READ_ONLY:
    # whitenoise serves the packaged files; an absent collected folder only makes it warn.
    Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
HTTPS = env_bool("CARTFLOW_HTTPS")
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True

# A Content-Security-Policy (django-csp): scripts only from the application itself, no
# framing, forms posted only back to it. Inline styles stay allowed (htmx's indicator and
# the API docs set them); inline scripts do not.
MIDDLEWARE += ["csp.middleware.CSPMiddleware"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# A refused request (403) is one warning line, not a traceback.
LOGGING["filters"] = {"one_line_refusals": {"()": "cartflow.log_filters.OneLineRefusals"}}
LOGGING["handlers"]["console"]["filters"] = ["one_line_refusals"]

# Every answer that shows a patient's identity is logged (cartflow.clinic.access_log), after
# the answer and outside the form's transaction below; on SQLite by one writer thread per
# process, so that page views never wait on the database's write lock (the tests write at once).
MIDDLEWARE += ["cartflow.clinic.access_log.IdentityReadMiddleware"]
# The request known to the services it calls (a signature's address, an authenticator code).
MIDDLEWARE += ["cartflow.clinic.request_context.CurrentRequestMiddleware"]
CARTFLOW_ACCESS_LOG_BACKGROUND = env_bool("CARTFLOW_ACCESS_LOG_BACKGROUND", not TESTING)

# A page form sent twice (a double click, a reload) is answered once and writes once: the
# innermost middleware, so that its replayed answers pass through all the others.
MIDDLEWARE += ["cartflow.clinic.form_once.FormOnceMiddleware"]

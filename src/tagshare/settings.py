"""Django settings, read from the environment (composition root: wiring only)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent
# Where the embedded default keeps its SQLite file and generated secret key.
DATA_DIR = Path(os.environ.get("TAGSHARE_DATA_DIR", Path.cwd() / "var")).resolve()

PRODUCTION = os.environ.get("TAGSHARE_ENV", "").lower() == "production"
DEBUG = _env_bool("DEBUG", False)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set when TAGSHARE_ENV=production.")
    # Embedded default: generate once and keep it beside the database, never in the repo.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "tagshare.nations",
    "tagshare.people",
    "tagshare.tags",
    "tagshare.outbox",
    "tagshare.matching",
    "tagshare.imports",
    "tagshare.sharing",
    "tagshare.webhooks",
    "tagshare.web",
    "tagshare.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "tagshare.urls"
WSGI_APPLICATION = "tagshare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tagshare.web.context.nation",
            ],
        },
    },
]

_default_sqlite = f"sqlite:///{DATA_DIR / 'tagshare.sqlite3'}"
DATABASE_URL = os.environ.get("DATABASE_URL", _default_sqlite)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the embedded worker write while pages read; IMMEDIATE avoids
        # "database is locked" upgrades from read to write inside a transaction.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TAGSHARE_TEST_SQLITE", "")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "nations.User"
AUTHENTICATION_BACKENDS = ["tagshare.nations.auth.NationEmailBackend"]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise warns at every start when STATIC_ROOT is missing; files come from the finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION

# Background work: the outbox is always in the database. With a broker URL set, Celery
# workers drain it; without one, `tagshare serve` drains it in-process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")

# The cache holds what a running import has got through (imports/progress.py) for the panel to
# poll. The process's memory is enough when the serving process runs the imports (the embedded
# default); Celery workers are other processes, so with a Redis broker the cache is Redis too.
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CELERY_BROKER_URL}
        if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# What each plan may do with tag shares (SPEC §1). Packaging changes, so it lives here only.
PLAN_CAPABILITIES: dict[str, dict[str, bool]] = {
    "leader": {"create_shares": False, "accept_shares": True},
    "organization": {"create_shares": True, "accept_shares": True},
    "enterprise": {"create_shares": True, "accept_shares": True},
    "network": {"create_shares": True, "accept_shares": True},
}

API_PAGE_SIZE_DEFAULT = 50
API_PAGE_SIZE_MAX = 500

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "") == "1"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves it for another

# CSV files at least this big are read and cleaned by a second process while the import
# stages what is already cleaned (imports/cleaning.py). Below it, starting the process
# (about half a second) costs more than it saves.
IMPORT_CLEANING_PROCESS_BYTES = int(
    os.environ.get("TAGSHARE_IMPORT_CLEANING_PROCESS_BYTES", 4_000_000)
)

"""The one settings module, driven by environment variables (see README.md, "Configuration").

With nothing set it runs embedded on one machine: SQLite, Celery's filesystem transport and e-mail
as files, all under ``var/``. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
"""

import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from jarfalla import env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.get("VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.boolean("DEBUG", False)
# `make bench` only: mounts the trivial baseline view at /bench/ (jarfalla/bench/urls.py).
BENCH = env.boolean("BENCH", False)

SITE_URL = (env.url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https")) or "").rstrip(
    "/"
)
_site = urlsplit(SITE_URL)
HTTPS = _site.scheme == "https"


def _secret_key() -> str:
    """SECRET_KEY from the environment; embedded installs get a random one kept in var/."""
    configured = env.get("SECRET_KEY")
    if configured is not None:
        if len(configured) < 50 or len(set(configured)) < 5:
            raise env.ConfigError("SECRET_KEY", "must be at least 50 characters of random text")
        return configured
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env.listing(
    "ALLOWED_HOSTS", sorted({_site.hostname or "localhost", "localhost", "127.0.0.1", "[::1]"})
)
CSRF_TRUSTED_ORIGINS = [SITE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "jarfalla",
    "units",
    "rollout",
    "training",
    "routines",
    "followup",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jarfalla.middleware.RenamedLoginBackendMiddleware",
    "jarfalla.middleware.SwedishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "jarfalla.middleware.ActivityMiddleware",
    "units.middleware.RequireMFAMiddleware",
    "jarfalla.middleware.PrivatePagesMiddleware",
    "jarfalla.middleware.StyledMethodNotAllowedMiddleware",
]

ROOT_URLCONF = "jarfalla.urls"
WSGI_APPLICATION = "jarfalla.wsgi.application"
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jarfalla.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env.url("DATABASE_URL", schemes=("postgres", "postgresql", "pgsql", "sqlite"))
if DATABASE_URL and not DATABASE_URL.startswith("sqlite"):
    _db = dict(dj_database_url.parse(DATABASE_URL, conn_max_age=0))
    _db["ENGINE"] = "django.db.backends.postgresql"
    # Django's own pool (psycopg_pool); persistent connections must stay off with it.
    _db["OPTIONS"] = {
        "pool": {
            "min_size": env.integer("DATABASE_POOL_MIN", 1),
            "max_size": env.integer("DATABASE_POOL_MAX", 10),
            "timeout": 10,
        }
    }
else:
    _db = dict(
        dj_database_url.parse(DATABASE_URL)
        if DATABASE_URL
        else {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "db.sqlite3")}
    )
    # Web, worker and beat share the file: WAL and IMMEDIATE avoid "database is locked".
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and broker ----------------------------------------------------------------
REDIS_URL = env.url("REDIS_URL", schemes=("redis", "rediss"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "jarfalla.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "jarfalla",
        }
    }
else:
    # A file cache, not local memory: web, worker and beat are separate processes.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery (read by jarfalla/celery.py with the CELERY_ namespace) ---------------------------
CELERY_DIR = VAR_DIR / "celery"
# Beat keeps its schedule file here with either broker; shelve cannot create the folder.
CELERY_DIR.mkdir(exist_ok=True)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    for _sub in ("queue", "processed", "control"):
        (CELERY_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DIR / "queue"),
        "data_folder_out": str(CELERY_DIR / "queue"),
        "processed_folder": str(CELERY_DIR / "processed"),
        "control_folder": str(CELERY_DIR / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "Europe/Stockholm"
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_DIR / "beat-schedule")
# Interval schedules, never crontab: a DST change can neither skip nor double an interval.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "jarfalla.heartbeat", "schedule": 60.0},
    "dispatch-reminders": {"task": "followup.dispatch_reminders", "schedule": 120.0},
    # The regional view's numbers stay within about a minute of the data (rollout.regional).
    "refresh-summaries": {"task": "rollout.refresh_summaries", "schedule": 30.0},
}

# --- E-mail ---------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.get("DEFAULT_FROM_EMAIL", "Järfällamodellen <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_SUBJECT_PREFIX = ""
ACCESSIBILITY_CONTACT_EMAIL = env.get("ACCESSIBILITY_CONTACT_EMAIL", "tillganglighet@localhost")
EMAIL_URL = env.url("EMAIL_URL", schemes=("smtp", "smtps", "file", "console"))


def _mailer() -> dict[str, object]:
    """The default mailer (Django 6.1 MAILERS) from EMAIL_URL, EMAIL_HOST…, or files in var/mail."""
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_URL:
        parts = urlsplit(EMAIL_URL)
        if parts.scheme == "console":
            return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
        if parts.scheme == "file":
            return {
                "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "OPTIONS": {"file_path": parts.path},
            }
        query = parse_qs(parts.query)
        return {
            "BACKEND": smtp,
            "OPTIONS": {
                "host": parts.hostname,
                "port": parts.port or (465 if parts.scheme == "smtps" else 25),
                "username": unquote(parts.username or ""),
                "password": unquote(parts.password or ""),
                "use_ssl": parts.scheme == "smtps",
                "use_tls": query.get("tls", ["0"])[0].lower() in {"1", "true", "yes"},
                "timeout": 20,
            },
        }
    if env.get("EMAIL_HOST"):
        port = env.integer("EMAIL_PORT", 587)
        return {
            "BACKEND": smtp,
            "OPTIONS": {
                "host": env.required("EMAIL_HOST"),
                "port": port,
                "username": env.get("EMAIL_HOST_USER", "") or "",
                "password": env.get("EMAIL_HOST_PASSWORD", "") or "",
                "use_tls": env.boolean("EMAIL_USE_TLS", port == 587),
                "use_ssl": env.boolean("EMAIL_USE_SSL", port == 465),
                "timeout": 20,
            },
        }
    return {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
    }


MAILERS = {"default": _mailer()}

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "units.User"
AUTHENTICATION_BACKENDS = [
    "units.backends.ModelBackend",
    "units.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# Changing the password keeps this session and ends all others (Django rotates the session hash).
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_REAUTHENTICATION_REQUIRED = True
# Reset links also stop working when the account is deactivated (and stay dead on reactivation).
ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR = "units.tokens.CredentialsAwarePasswordResetTokenGenerator"  # noqa: S105 (a class path)
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Failed logins and second-factor codes are counted in the shared cache (Redis in production).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = env.get("MFA_TOTP_ISSUER", "Järfällamodellen")
MFA_PASSKEY_LOGIN_ENABLED = False
# WebAuthn needs a secure origin; http://127.0.0.1 counts as one only when we say so in DEBUG.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
USERSESSIONS_TRACK_ACTIVITY = True
# Sessions end after an hour without activity (jarfalla.middleware.ActivityMiddleware renews
# the expiry at most once a minute).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = env.integer("SESSION_IDLE_TIMEOUT", 60 * 60)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
ACCOUNT_ADAPTER = "jarfalla.adapters.InvitationOnlyAccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if HTTPS else "http"

# --- Security -------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", HTTPS)
# Container health checks talk plain HTTP to the app itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
if env.boolean("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind a reverse proxy every request comes from the proxy's address: the per-address rate
# limits above would then be one bucket for everybody (ten mistyped passwords anywhere lock
# the whole site out of logging in), and the session list would show the proxy's address. With
# the number of proxies we run, the client's address is read from X-Forwarded-For, counted from
# the right (the entries further left are whatever the client sent).
ALLAUTH_TRUSTED_PROXY_COUNT = env.integer("TRUSTED_PROXY_COUNT", 0)
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preloading is a commitment for the whole domain (often the municipality's): opt-in only.
SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", False)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    # Bootstrap draws checkboxes and select arrows with data: SVGs.
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Svenska")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "jarfalla" / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
FORMAT_MODULE_PATH = ["jarfalla.formats"]

# --- Static files ---------------------------------------------------------------------------
# Generated files (routine PDFs); served only through views that check access, never as /media/.
MEDIA_ROOT = VAR_DIR / "media"
STATIC_URL = "/static/"
# The image collects them outside VAR_DIR (its volume would keep the first image's files).
STATIC_ROOT = Path(env.get("STATIC_ROOT") or VAR_DIR / "staticfiles")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.get(
            "STATICFILES_STORAGE",
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env.choice(
            "LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
        ),
    },
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
CSRF_FAILURE_VIEW = "jarfalla.views.csrf_failure"

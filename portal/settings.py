"""Settings for the meeting portal, all read from the environment.

With no environment set, the portal runs on embedded defaults: SQLite, a filesystem Celery broker and
emails written to files, all under ``var/``. Every variable is listed in ``.env.example``.
"""

from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret(name: str, generate) -> str:
    """Read a secret from NAME, from the file named by NAME_FILE, or keep a generated one under var/."""
    if value := env(name, default=""):
        return value
    if path := env(f"{name}_FILE", default=""):
        return Path(path).read_text().strip()
    stored = VAR_DIR / name.lower()
    if not stored.exists():
        stored.touch(mode=0o600)
        stored.write_text(generate())
    return stored.read_text().strip()


SECRET_KEY = _secret("SECRET_KEY", get_random_secret_key)
# Fernet keys for provider and identity-provider credentials, newest first; older keys still decrypt.
CREDENTIALS_KEYS = _secret("CREDENTIALS_KEYS", lambda: Fernet.generate_key().decode()).split(",")

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "mozilla_django_oidc",
    "portal",
    "accounts",
    "meetings",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.oidc.OrganizationSessionRefresh",
    "accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
ASGI_APPLICATION = "portal.asgi.application"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "accounts.context_processors.organizations",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Let the web server, the worker and beat share one SQLite file without "database is locked".
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # Several web processes serve one room: room messages travel through Redis.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                  "CONFIG": {"hosts": [REDIS_URL], "prefix": env("CHANNELS_PREFIX", default="portal")}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# ICE servers for the built-in provider's peer connections, as the browser's RTCIceServer list
# (JSON). None are needed on loopback and most LANs. With TURN_SHARED_SECRET set, TURN_URLS get
# short-lived REST-style credentials per session (username "<expiry>:<peer>", HMAC-SHA1 password).
ICE_SERVERS = env.json("ICE_SERVERS", default=[])
TURN_URLS = env.list("TURN_URLS", default=[])
TURN_SHARED_SECRET = env("TURN_SHARED_SECRET", default="")
TURN_CREDENTIAL_SECONDS = env.int("TURN_CREDENTIAL_SECONDS", default=6 * 3600)
# A room peer that lost its connection this long ago has left (its leave time is when it dropped).
ROOM_RECONNECT_GRACE_SECONDS = env.int("ROOM_RECONNECT_GRACE_SECONDS", default=90)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.oidc.OrganizationOIDCBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# mozilla-django-oidc: the per-organization values (endpoints, client, scopes) come from
# accounts.IdentityProvider; these are the settings shared by every identity provider.
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_STORE_ID_TOKEN = True  # needed as id_token_hint when signing out at the identity provider
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env.int("OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS", default=15 * 60)
OIDC_EXEMPT_URLS = ["login", "password_login", "logout"]
OIDC_CLOCK_SKEW_SECONDS = 60
OIDC_DISCOVERY_CACHE_SECONDS = env.int("OIDC_DISCOVERY_CACHE_SECONDS", default=3600)

# Gcore's Streaming API (recordings, statistics), and the first retry's delay in seconds.
GCORE_API_BASE_URL = env("GCORE_API_BASE_URL", default="https://api.gcore.com")
GCORE_BACKOFF_SECONDS = env.float("GCORE_BACKOFF_SECONDS", default=1.0)
# One URL for every region's Meet server instead of webrtc3..6.gvideo.co (a private deployment, or tests).
GCORE_SERVER_BASE_URL = env("GCORE_SERVER_BASE_URL", default="")

# The one door for outbound HTTP (portal/http.py).
OUTBOUND_TIMEOUT_SECONDS = env.float("OUTBOUND_TIMEOUT_SECONDS", default=10.0)
OUTBOUND_ALLOW_PRIVATE_ADDRESSES = env.bool("OUTBOUND_ALLOW_PRIVATE_ADDRESSES", default=False)

# Join links open this long before each occurrence and stay usable this long after its end.
JOIN_OPENS_MINUTES_BEFORE = env.int("JOIN_OPENS_MINUTES_BEFORE", default=30)
JOIN_GRACE_MINUTES_AFTER = env.int("JOIN_GRACE_MINUTES_AFTER", default=30)
# Join attempts per minute, per client address and per link.
JOIN_RATE_PER_IP = env.int("JOIN_RATE_PER_IP", default=30)
JOIN_RATE_PER_LINK = env.int("JOIN_RATE_PER_LINK", default=10)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"  # never served directly: recordings go through views that check access
MAX_RECORDING_CHUNK_BYTES = env.int("MAX_RECORDING_CHUNK_BYTES", default=16 * 1024 * 1024)

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Browser libraries from pinned npm packages (package.json; `make` runs npm ci).
if (BASE_DIR / "node_modules" / "hls.js" / "dist").is_dir():
    STATICFILES_DIRS.append(("vendor/hls.js", BASE_DIR / "node_modules" / "hls.js" / "dist"))
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True

if env("EMAIL_URL", default=""):  # e.g. smtp+tls://user:password@mail.example.com:587
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "portal.mail.EmlFileBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Meeting portal <portal@localhost>")

# Celery: Redis when REDIS_URL is set, otherwise a broker in plain files under var/ so the embedded
# install runs a real worker and beat with no service to install.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_RESULT_EXPIRES = 3600
    CELERY_TASK_IGNORE_RESULT = False
else:
    CELERY_TASK_IGNORE_RESULT = True
    _broker_dir = VAR_DIR / "celery-broker"
    for _folder in ("processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="portal")
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
REMINDER_MINUTES_BEFORE = env.int("REMINDER_MINUTES_BEFORE", default=60)
CELERY_BEAT_SCHEDULE = {
    "send-reminders": {"task": "meetings.tasks.send_reminders", "schedule": 300.0},
    "end-finished-occurrences": {"task": "meetings.tasks.end_finished_occurrences", "schedule": 300.0},
    "end-abandoned-room-sessions": {"task": "meetings.tasks.end_abandoned_sessions", "schedule": 60.0},
    "discard-stalled-recordings": {"task": "meetings.tasks.discard_stalled_recordings", "schedule": 900.0},
    "sync-hosted-meetings": {"task": "meetings.tasks.sync_hosted_meetings", "schedule": 600.0},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

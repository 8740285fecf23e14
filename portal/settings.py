"""Settings for the meeting portal, all read from the environment.

With no environment set, the portal runs on embedded defaults: SQLite, a filesystem Celery broker and
emails written to files, all under ``var/``. Every variable is listed in ``.env.example``.
"""

from pathlib import Path
from urllib.parse import urlsplit

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
# The port built-in room pages open their WebSocket on, when the socket server (ASGI, portal.asgi)
# answers on another port than the pages (WSGI, portal.wsgi) of the same host: the join session's
# cookie belongs to the host the person browses. 0: the page's own origin, for one ASGI server or a
# proxy that routes /j/<token>/ws to the socket server.
ROOM_SOCKET_PORT = env.int("ROOM_SOCKET_PORT", default=0)
# Jitsi: the separate origin that serves the frame running each organization's Jitsi script, such as
# https://jitsi-frames.example.net (best another site, not a subdomain of the portal's). Its host
# answers only that frame; empty: Jitsi rooms answer 503. Its host is allowed automatically.
JITSI_FRAME_ORIGIN = env("JITSI_FRAME_ORIGIN", default="").strip().rstrip("/")
if JITSI_FRAME_ORIGIN and (_frame_host := urlsplit(JITSI_FRAME_ORIGIN).hostname):
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, _frame_host]

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
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mozilla_django_oidc",
    "portal",
    "accounts",
    "meetings",
]

MIDDLEWARE = [
    "portal.outage.HealthMiddleware",
    "portal.security.RefuseNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.security.SecurityHeadersMiddleware",
    # On JITSI_FRAME_ORIGIN's host only the Jitsi frame and its script, never the portal's pages.
    "meetings.providers.jitsi.frame.FrameHostMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.oidc.OrganizationSessionRefresh",
    "accounts.middleware.UserTimezoneMiddleware",
    "accounts.middleware.LanguageMiddleware",
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
# Persistent connections: opening one per request cost the pre-join page two thirds of its speed
# (bench/http_join.py). Each is checked before reuse, so one the database dropped is replaced.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=600))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Let the web server, the worker and beat share one SQLite file without "database is locked".
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
# Messages a room socket may have waiting in the in-memory layer (one process, no Redis) before it
# drops new ones for it, silently. The default of 100 dropped WebRTC signals to a socket that fell
# behind on a loaded machine, and two people never saw each other.
ROOM_SOCKET_BACKLOG = env.int("ROOM_SOCKET_BACKLOG", default=2000)
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # Several web processes serve one room: room messages travel through Redis pub/sub. A message to a
    # room is one PUBLISH, and each process hands it to its own sockets in memory; the list-based
    # RedisChannelLayer wrote it into every socket's queue and each socket read it back with a round
    # trip of its own. Reads are bounded so a Redis gone silent is noticed.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {
        "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 5, "socket_keepalive": True}],
        # Redis pub/sub ignores the database number: two portals sharing one Redis would hear each
        # other's rooms. The number in REDIS_URL goes into the prefix, so separate databases stay apart.
        "prefix": f"{env('CHANNELS_PREFIX', default='portal')}.db{urlsplit(REDIS_URL).path.strip('/') or '0'}"}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer",
                                  "CONFIG": {"capacity": ROOM_SOCKET_BACKLOG}}}

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
# SignalWire: each account's own space (https://<space host>); tests point this at a contract server.
SIGNALWIRE_BASE_URL = env("SIGNALWIRE_BASE_URL", default="")
# SignalWire publishes no number for its REST limit: a conservative cap per project token, and every
# 429 honoured (Retry-After).
SIGNALWIRE_REQUESTS_PER_SECOND = env.int("SIGNALWIRE_REQUESTS_PER_SECOND", default=5)
SIGNALWIRE_BACKOFF_SECONDS = env.float("SIGNALWIRE_BACKOFF_SECONDS", default=1.0)
# Jitsi: always https://<the account's domain>. Tests only: a local stand-in such as http://127.0.0.1:8443.
JITSI_BASE_URL = env("JITSI_BASE_URL", default="")
# LiveKit: each account names its own server; a cap per API key across all workers (LiveKit
# publishes no number for self-hosted servers), every 429 waited out (Retry-After).
LIVEKIT_REQUESTS_PER_SECOND = env.int("LIVEKIT_REQUESTS_PER_SECOND", default=10)
LIVEKIT_BACKOFF_SECONDS = env.float("LIVEKIT_BACKOFF_SECONDS", default=1.0)
# VideoSDK: its REST API (tests point it at a contract server); the host its browser SDK asks for its
# server configuration, empty for the SDK's own api.videosdk.live (a proxy VideoSDK agreed to, or
# tests); a cap per API key across all workers (VideoSDK publishes no number; every 429 is waited out).
VIDEOSDK_API_BASE_URL = env("VIDEOSDK_API_BASE_URL", default="https://api.videosdk.live")
VIDEOSDK_SIGNALING_HOST = env("VIDEOSDK_SIGNALING_HOST", default="")
VIDEOSDK_REQUESTS_PER_SECOND = env.int("VIDEOSDK_REQUESTS_PER_SECOND", default=5)
VIDEOSDK_BACKOFF_SECONDS = env.float("VIDEOSDK_BACKOFF_SECONDS", default=1.0)
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
# Room page loads per join session (stay) in 10 minutes: each mints a provider token. A person loads it
# once, and again after a role change or a lost connection; a page reloading in a loop is refused (429).
ROOM_PAGE_LOADS_PER_STAY = env.int("ROOM_PAGE_LOADS_PER_STAY", default=20)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# Behind a TLS proxy, plain-HTTP requests are sent to HTTPS and browsers are told to stay there.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=BEHIND_TLS_PROXY)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if BEHIND_TLS_PROXY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Gcore's bridge script runs in the portal's own origin, so it is loaded only from these hosts
# (Gcore's meet.gcore.com and its gvideo.co zone; a leading dot means any subdomain). An
# organization's own meet domain outside them still embeds, without the bridge's live events.
GCORE_BRIDGE_SCRIPT_HOSTS = env.list("GCORE_BRIDGE_SCRIPT_HOSTS", default=["meet.gcore.com", ".gvideo.co"])

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
# Catalogs in locale/<code>/LC_MESSAGES/django.po; see the README's "Languages".
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["portal.formats"]
USE_TZ = True

MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"  # never served directly: recordings go through views that check access
MAX_RECORDING_CHUNK_BYTES = env.int("MAX_RECORDING_CHUNK_BYTES", default=16 * 1024 * 1024)

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Browser libraries from pinned npm packages (package.json; `make` runs npm ci).
if (BASE_DIR / "node_modules" / "@signalwire" / "js" / "dist").is_dir():
    STATICFILES_DIRS.append(("vendor/signalwire", BASE_DIR / "node_modules" / "@signalwire" / "js" / "dist"))
if (BASE_DIR / "node_modules" / "@videosdk.live" / "js-sdk").is_dir():
    STATICFILES_DIRS.append(("vendor/videosdk", BASE_DIR / "node_modules" / "@videosdk.live" / "js-sdk"))
if (BASE_DIR / "node_modules" / "livekit-client" / "dist").is_dir():
    STATICFILES_DIRS.append(("vendor/livekit", BASE_DIR / "node_modules" / "livekit-client" / "dist"))
if (BASE_DIR / "node_modules" / "hls.js" / "dist").is_dir():
    STATICFILES_DIRS.append(("vendor/hls.js", BASE_DIR / "node_modules" / "hls.js" / "dist"))
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True

if env("EMAIL_URL", default=""):  # e.g. smtp+tls://user:password@mail.example.com:587
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env("EMAIL_BACKEND", default="portal.mail.EmlFileBackend")
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Meeting portal <portal@localhost>")

# Celery: Redis when REDIS_URL is set, otherwise a broker in plain files under var/ so the embedded
# install runs a real worker and beat with no service to install.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_RESULT_EXPIRES = 3600
    CELERY_TASK_IGNORE_RESULT = False
    # An unacknowledged message (its worker died) comes back after visibility_timeout, longer than the
    # longest task (a sync, SYNC_LEASE_SECONDS), so the broker itself never redelivers a running task;
    # the outbox may, after a lease, and its rows make that harmless.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 1800, "socket_connect_timeout": 3,
                                       "socket_timeout": 15, "socket_keepalive": True}
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
# Tasks that must happen go through the outbox (portal/outbox.py), which retries them and sends them
# again when a message is lost; these settings keep Celery's own losses small.
# Idempotent tasks set acks_late: a message is acknowledged only after its task ran. A message whose
# worker process died is not put back (reject_on_worker_lost off): a task that kills its process would
# loop forever; the outbox sends it again after its lease and gives up after OUTBOX_MAX_DISPATCHES.
CELERY_TASK_ACKS_LATE = False
CELERY_TASK_REJECT_ON_WORKER_LOST = False
# No prefetching beyond one message per worker process: a killed worker holds (and delays) no more
# than what it was running.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep reconnecting to a broker that went away, also at start-up, instead of exiting.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# Sending a task while the broker is down fails fast instead of holding a page for many seconds; the
# outbox row stays due and the sweep sends it later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5,
                                    "interval_max": 0.5}
# Beat saves its schedule after every task it sends, so a restarted beat neither sends again nor delays.
CELERY_BEAT_SYNC_EVERY = 1
# The outbox: how long one run may take before its work is sent again, the first retry's delay (it
# doubles up to 10 minutes), and how often beat sweeps for due work.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=120)
OUTBOX_RETRY_SECONDS = env.int("OUTBOX_RETRY_SECONDS", default=10)
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=30.0)
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=900)
OUTBOX_MAX_DISPATCHES = env.int("OUTBOX_MAX_DISPATCHES", default=20)
# A mail server that does not answer gives up well within an email's lease.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
REMINDER_MINUTES_BEFORE = env.int("REMINDER_MINUTES_BEFORE", default=60)
CELERY_BEAT_SCHEDULE = {
    "send-reminders": {"task": "meetings.tasks.send_reminders", "schedule": 300.0},
    "end-finished-occurrences": {"task": "meetings.tasks.end_finished_occurrences", "schedule": 300.0},
    "end-abandoned-room-sessions": {"task": "meetings.tasks.end_abandoned_sessions", "schedule": 60.0},
    "discard-stalled-recordings": {"task": "meetings.tasks.discard_stalled_recordings", "schedule": 900.0},
    "sync-hosted-meetings": {"task": "meetings.tasks.sync_hosted_meetings", "schedule": 600.0},
    "sweep-pending-tasks": {"task": "portal.tasks.sweep_pending_tasks", "schedule": OUTBOX_SWEEP_SECONDS},
    "forget-old-idempotency-keys": {"task": "portal.tasks.forget_old_idempotency_keys", "schedule": 3600.0},
}

# Hosted providers' joins and leaves are applied by the worker (meetings/services/provider_events.py);
# this sweep applies those a lost message or a stopped worker left pending.
CELERY_BEAT_SCHEDULE["apply-provider-events"] = {"task": "meetings.tasks.apply_provider_events",
                                                 "schedule": env.float("PROVIDER_EVENTS_SWEEP_SECONDS", default=15.0)}

# The REST API (/api/v1/, portal/api/): API keys or the session, one error shape, cursor pages,
# JSON only, and an OpenAPI 3 schema drf-spectacular writes from the views.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["portal.api.access.ApiKeyAuthentication",
                                       "portal.api.access.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["portal.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.errors.handle",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Meeting portal API",
    "DESCRIPTION": "Meetings, invitations, join links, attendance, recordings, usage and members of one "
                   "organization. Authenticate with `Authorization: Bearer <API key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # the docs page's assets come from the portal, never a CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "portal.api.schema_hooks.add_conventions"],
    "ENUM_NAME_OVERRIDES": {"InviteeRoleEnum": "meetings.models.Role",
                            "MemberRoleEnum": "accounts.models.Membership.Role"},
}
# Requests per minute per API key (or signed-in person), counted across all web processes.
API_REQUESTS_PER_MINUTE = env.int("API_REQUESTS_PER_MINUTE", default=600)
# API requests per minute per client address that name no valid key (guessing keys, broken clients).
API_FAILED_AUTHENTICATIONS_PER_MINUTE = env.int("API_FAILED_AUTHENTICATIONS_PER_MINUTE", default=60)
# Outgoing webhooks (meetings/webhooks/): the waits between a failed delivery's attempts (the last
# about 20.6 h after the event), how long an endpoint may fail every delivery before it is disabled and
# its admins are told, and each attempt's timeout.
WEBHOOK_RETRY_SCHEDULE_SECONDS = tuple(env.list("WEBHOOK_RETRY_SCHEDULE_SECONDS", cast=int,
                                                default=[60, 300, 1800, 7200, 21600, 43200]))
WEBHOOK_DISABLE_AFTER_SECONDS = env.int("WEBHOOK_DISABLE_AFTER_SECONDS", default=24 * 3600)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# How long a POST's Idempotency-Key keeps its first answer.
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)

# Sign-in limits on the shared cache (portal/ratelimit.py): failed password and set-password attempts
# per account and per client address, and email-entry lookups (which tell whose identity provider
# claims a domain) per address. A window opens with the first attempt; beyond a limit the page
# answers 429 and says how long to wait, and even the right password does not sign in.
SIGN_IN_WINDOW_SECONDS = env.int("SIGN_IN_WINDOW_SECONDS", default=15 * 60)
SIGN_IN_FAILURES_PER_ACCOUNT = env.int("SIGN_IN_FAILURES_PER_ACCOUNT", default=10)
SIGN_IN_FAILURES_PER_ADDRESS = env.int("SIGN_IN_FAILURES_PER_ADDRESS", default=30)
SIGN_IN_LOOKUPS_PER_ADDRESS = env.int("SIGN_IN_LOOKUPS_PER_ADDRESS", default=60)
# Reverse proxies in front of the portal that append the client's address to X-Forwarded-For. With 0
# the connecting address is the client's and the header is ignored, since any client can send one.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Every handler redacts secret URLs (join links, calendar feeds, ...; portal/logredact.py). Django's,
# gunicorn's and uvicorn's loggers had handlers of their own before these settings loaded: they now write through
# these. Their levels stay as Django and uvicorn's --log-level set them.
LOGGING_CONFIG = "portal.logredact.configure_logging"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "portal.logredact.RedactSecrets"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "access": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"],
                   "stream": "ext://sys.stdout"},  # where uvicorn writes its access log
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
        "uvicorn": {"handlers": ["console"], "propagate": False},
        "uvicorn.error": {},
        "uvicorn.asgi": {},
        "uvicorn.access": {"handlers": ["access"], "propagate": False},
        # gunicorn (the pages' server) writes its access log only when started with --access-logfile.
        "gunicorn.error": {"handlers": ["console"], "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "propagate": False},
        "celery.task": {"handlers": ["console"], "propagate": False},  # else the worker adds its own
    },
}

# Recordings made in built-in rooms: the most chunks one recording has (the room page sends one a
# second: 4 hours), and the most bytes one recording, and all of an organization's recordings
# (ready and still uploading), may take. A chunk beyond them is refused and nothing is written.
MAX_RECORDING_CHUNKS = env.int("MAX_RECORDING_CHUNKS", default=4 * 3600)
MAX_RECORDING_BYTES = env.int("MAX_RECORDING_BYTES", default=4 * 1024**3)
MAX_ORGANIZATION_RECORDING_BYTES = env.int("MAX_ORGANIZATION_RECORDING_BYTES", default=50 * 1024**3)

# Gcore's Streaming API allows 4 requests a second per API token; a private deployment, or a bench
# against the contract server (bench/worker_memory.py), may set another cap.
GCORE_REQUESTS_PER_SECOND = env.int("GCORE_REQUESTS_PER_SECOND", default=4)

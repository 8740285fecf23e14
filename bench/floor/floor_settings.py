"""The floor: a minimal Django project with one view returning "ok" and Django's default middleware,
served the same way as the portal in bench/http_join.py. Every figure is printed as a ratio to it."""

SECRET_KEY = "bench-floor-not-secret"  # noqa: S105 - a throwaway project that serves one word
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "floor_urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions",
                  "django.contrib.messages"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True

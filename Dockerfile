FROM node:20-slim AS browser-libraries
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# The translations, compiled with GNU gettext's msgfmt (the .mo files are not committed).
FROM debian:bookworm-slim AS translations
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
COPY locale /build/locale
RUN for po in /build/locale/*/LC_MESSAGES/django.po; do msgfmt --check -o "${po%.po}.mo" "$po" || exit 1; done

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORTAL_VAR_DIR=/var/lib/portal STATIC_ROOT=/srv/static
WORKDIR /srv/portal
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
COPY --from=browser-libraries /build/node_modules ./node_modules
COPY --from=translations /build/locale ./locale
RUN SECRET_KEY=build CREDENTIALS_KEYS=$(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
    python manage.py collectstatic --noinput \
 && useradd --system portal && mkdir -p /var/lib/portal && chown portal /var/lib/portal
USER portal
EXPOSE 8000 8001
# Pages on gunicorn (WSGI); docker-compose.yml runs the room sockets' uvicorn (ASGI) beside it.
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-", \
     "--forwarded-allow-ips", "", "--graceful-timeout", "20", "--timeout", "60", "--no-control-socket"]

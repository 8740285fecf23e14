FROM node:20-slim AS browser-libraries
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORTAL_VAR_DIR=/var/lib/portal STATIC_ROOT=/srv/static
WORKDIR /srv/portal
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
COPY --from=browser-libraries /build/node_modules ./node_modules
RUN SECRET_KEY=build CREDENTIALS_KEYS=$(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
    python manage.py collectstatic --noinput \
 && useradd --system portal && mkdir -p /var/lib/portal && chown portal /var/lib/portal
USER portal
EXPOSE 8000 8001
# Pages on gunicorn (WSGI); docker-compose.yml runs the room sockets' uvicorn (ASGI) beside it.
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-", \
     "--forwarded-allow-ips", "", "--graceful-timeout", "20", "--timeout", "60", "--no-control-socket"]

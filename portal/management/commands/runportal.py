import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Run the whole portal on this machine: migrate, then the web server (pages), the socket server "
            "(built-in rooms), a Celery worker and beat.")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--socket-port", type=int, help="where room sockets are served (default: --port + 1)")

    def handle(self, *args, host, port, socket_port, **options):
        socket_port = socket_port or port + 1
        # Emailed and API links name the address this portal answers on, unless SITE_URL says otherwise
        # (a proxy in front): the web server, the worker and beat all read it from here.
        if "SITE_URL" not in os.environ:
            os.environ["SITE_URL"] = settings.SITE_URL = site_url(host, port)
        # Apart, pages and sockets are two processes, and what a page does (a host ends the meeting)
        # reaches the room's sockets only through Redis; without it one ASGI process serves both.
        split = bool(settings.REDIS_URL)
        if split:
            os.environ.setdefault("ROOM_SOCKET_PORT", str(socket_port))
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database is up to date.")
        call_command("bootstrap_demo", stdout=self.stdout)
        python = sys.executable
        commands = {
            **({"web": web_command(host, port), "sockets": socket_command(host, socket_port)} if split
               else {"web": socket_command(host, port)}),
            "worker": [python, "-m", "celery", "-A", "portal", "worker", "--concurrency=2", "--loglevel=INFO"],
            "beat": [python, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO"],
        }
        processes = {name: subprocess.Popen(command) for name, command in commands.items()}
        self.stdout.write(self.style.SUCCESS(
            f"\nMeeting portal: http://{host}:{port}/   (Ctrl-C stops {', '.join(commands)})\n"
            f"Room sockets: {'port ' + os.environ['ROOM_SOCKET_PORT'] if split else 'the same server (no REDIS_URL)'}\n"
            f"Links in emails and API answers start with {os.environ['SITE_URL']}\n"
            f"Emails go to {getattr(settings, 'EMAIL_FILE_PATH', 'the SMTP server in EMAIL_URL')}\n"))

        def stop(*_):
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            exited = _wait_for_first_exit(processes)
            self.stderr.write(f"{exited} stopped; stopping the others.")
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for process in processes.values():
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


def site_url(host: str, port: int) -> str:
    """Where people reach a portal run with --host and --port (a wildcard host answers on loopback too)."""
    wildcard = host in ("0.0.0.0", "::")  # noqa: S104 - a comparison: nothing is bound here
    return f"http://{'127.0.0.1' if wildcard else host}:{port}"


# Pages on WSGI, room sockets on ASGI: bench/http_join.py measured the same Django code serving pages
# 2-4x faster on gunicorn's sync workers than on uvicorn (where every sync view and middleware call
# crosses into a thread), and only the built-in room's WebSocket needs ASGI.
# --no-proxy-headers / no --forwarded-allow-ips: the servers would otherwise take the client address
# from X-Forwarded-For, which anyone can send; the portal reads it itself (TRUSTED_PROXY_COUNT).
WEB_WORKERS = 2


def web_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", _bind(host, port),
            "--workers", str(WEB_WORKERS), "--access-logfile", "-", "--forwarded-allow-ips", "",
            "--graceful-timeout", "20", "--timeout", "60", "--no-control-socket"]


def socket_command(host: str, port: int) -> list[str]:
    # Per-message deflate off: room messages are small, and compressing each one for each of a room's
    # sockets costs more CPU than the bytes saved (bench/room_sockets.py).
    return [sys.executable, "-m", "uvicorn", "portal.asgi:application", "--host", host, "--port", str(port),
            "--lifespan", "off", "--no-proxy-headers", "--ws-per-message-deflate", "false",
            "--timeout-graceful-shutdown", "20"]


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _wait_for_first_exit(processes: dict) -> str:
    pid, _ = os.wait()
    return next((name for name, p in processes.items() if p.pid == pid), "a process")

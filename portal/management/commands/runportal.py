import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the whole portal on this machine: migrate, then the web server, a Celery worker and beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host, port, **options):
        # Emailed and API links name the address this portal answers on, unless SITE_URL says otherwise
        # (a proxy in front): the web server, the worker and beat all read it from here.
        if "SITE_URL" not in os.environ:
            os.environ["SITE_URL"] = settings.SITE_URL = site_url(host, port)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database is up to date.")
        call_command("bootstrap_demo", stdout=self.stdout)
        python = sys.executable
        commands = {
            "web": web_command(host, port),
            "worker": [python, "-m", "celery", "-A", "portal", "worker", "--concurrency=2", "--loglevel=INFO"],
            "beat": [python, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO"],
        }
        processes = {name: subprocess.Popen(command) for name, command in commands.items()}
        self.stdout.write(self.style.SUCCESS(
            f"\nMeeting portal: http://{host}:{port}/   (Ctrl-C stops web, worker and beat)\n"
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


def web_command(host: str, port: int) -> list[str]:
    # --no-proxy-headers: uvicorn would otherwise take the client address from X-Forwarded-For sent to
    # loopback, where anyone can send it; the portal reads it itself (TRUSTED_PROXY_COUNT).
    return [sys.executable, "-m", "uvicorn", "portal.asgi:application", "--host", host, "--port", str(port),
            "--lifespan", "off", "--no-proxy-headers"]


def _wait_for_first_exit(processes: dict) -> str:
    pid, _ = os.wait()
    return next((name for name, p in processes.items() if p.pid == pid), "a process")

"""The production settings of .env.example pass Django's deployment checks with no warning."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def example_environment() -> dict:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            if value:
                values[name] = value
    return values


def check_deploy(tmp_path, **settings) -> subprocess.CompletedProcess:
    """`manage.py check --deploy` with the example production settings, and `settings` on top."""
    # The browser tests allow async-unsafe ORM calls in this process; a deployment never does.
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    environment.update(example_environment(), PORTAL_VAR_DIR=str(tmp_path), **settings)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


def test_manage_py_check_deploy_is_clean_with_the_example_production_settings(tmp_path):
    result = check_deploy(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_jitsi_frame_origin_on_the_portals_site_fails_the_deploy_check(tmp_path):
    # The example's SITE_URL is https://meet.example.com: a sibling host is the same site, example.com.
    result = check_deploy(tmp_path, JITSI_FRAME_ORIGIN="https://jitsi-frames.example.com")

    assert result.returncode != 0
    assert "meetings.E001" in result.stderr and "another site" in result.stderr
    assert "one site, example.com" in result.stderr


def test_a_jitsi_frame_origin_on_another_site_passes_the_deploy_check(tmp_path):
    result = check_deploy(tmp_path, JITSI_FRAME_ORIGIN="https://jitsi-frames.example.net")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout

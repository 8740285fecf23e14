#!/usr/bin/env python
"""The join path through real servers, side by side with the floor, in one run:

    .venv/bin/python bench/http_join.py [--seconds 10] [--connections 8]

It makes a fresh PostgreSQL database (portal_bench) and Redis db 8, builds the data (bench/http_data.py:
two Gcore webinars, HS256 and RS256, with 500 invitees each, and 100,000 more invitations), starts the
floor (bench/floor: one Django view returning "ok", default middleware, gunicorn with 2 workers) and
the portal on each candidate web command with 2 workers and DEBUG off, drives each with wrk (Debian's
package; installed when missing) and prints requests per second, p50 and p99 latency and the ratio
to the floor measured in the same run. Run it on an otherwise idle machine: it uses both cores.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DATABASE = "portal_bench"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/8"
CSRF = "benchbenchbenchbenchbenchbench12"  # any 32 letters: the cookie and the form carry the same
WORKERS = "2"

WRK_SCRIPT = """
local lines, i = {}, 0
function init(args)
  for line in io.lines(args[1]) do lines[#lines + 1] = line end
  i = math.random(#lines)
end
function request()
  i = i % #lines + 1
  local token, cookie = lines[i]:match("^(%S+)%s*(.*)$")
  local path = string.format(wrk.path, token)
  local headers = {}
  if cookie ~= "" then headers["Cookie"] = cookie end
  if wrk.method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format("POST", path, headers, wrk.body)
  end
  return wrk.format("GET", path, headers)
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("Installing wrk from Debian's packages")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env={**os.environ,
                                                                                "DEBIAN_FRONTEND": "noninteractive"})


def portal_env(var_dir: str, **extra) -> dict:
    return {**os.environ, "DATABASE_URL": f"{POSTGRES}/{DATABASE}", "REDIS_URL": REDIS_URL, "DEBUG": "0",
            "PORTAL_VAR_DIR": var_dir, "SECRET_KEY": "bench-secret-key-" + "x" * 40,
            "CREDENTIALS_KEYS": "Ae0xZ9Pq3rS4tU5vW6xY7zA8bC9dE0fG1hI2jK3lM4o=", "LOG_LEVEL": "WARNING",
            "JOIN_RATE_PER_IP": "1000000000", "JOIN_RATE_PER_LINK": "1000000000",
            "ROOM_PAGE_LOADS_PER_STAY": "1000000000", "SITE_URL": "http://127.0.0.1", **extra}


def fresh_database(env: dict) -> dict:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    print("building the data (100,000 invitations)…", flush=True)
    built = subprocess.run([python, str(BENCH / "http_data.py")], cwd=ROOT, env=env, capture_output=True,
                           text=True)
    if built.returncode:
        raise SystemExit(f"building the data failed:\n{built.stderr[-3000:]}")
    return json.loads(built.stdout.strip().splitlines()[-1])


class Server:
    def __init__(self, label: str, command: list[str], env: dict, cwd: Path):
        self.label, self.port = label, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [part.replace("{port}", str(self.port)) for part in command]
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/", timeout=1)
                return
            except (requests.ConnectionError, requests.Timeout):  # listening, its workers still booting
                if self.process.poll() is not None:
                    raise RuntimeError(f"{label} exited at start") from None
                time.sleep(0.2)  # waiting for a server process to listen, not for test state
        raise RuntimeError(f"{label} did not start")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wrk(url: str, *, seconds: int, connections: int, lines: list[str] | None = None, path: str = "/",
        method: str = "GET", body: str = "", scratch: Path, delay_ms: float = 0) -> dict:
    """wrk's figures; with `delay_ms`, each connection waits that long between its requests."""
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    pacing = f"\nfunction delay() return {delay_ms:.3f} end\n" if delay_ms else ""
    script = scratch / "rotate.lua"
    if lines is not None:
        (scratch / "lines.txt").write_text("\n".join(lines) + "\n")
        script.write_text(WRK_SCRIPT.replace("wrk.path", json.dumps(path)).replace("wrk.method", json.dumps(method))
                          .replace("wrk.body", json.dumps(body)) + pacing)
        command += ["-s", str(script), url, str(scratch / "lines.txt")]
    elif pacing:
        script.write_text(pacing)
        command += ["-s", str(script), url + path]
    else:
        command.append(url + path)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rate": rate, "p50": _latency(output, "50%"), "p99": _latency(output, "99%"),
            "bad": int(errors.group(1)) if errors else 0}


def _latency(output: str, percentile: str) -> str:
    match = re.search(rf"^\s+{re.escape(percentile)}\s+(\S+)", output, re.MULTILINE)
    return match.group(1) if match else "?"


def joined_cookies(server: Server, tokens: list[str]) -> list[str]:
    """Join every invitee once; each line is the token and its stay's cookie for the room page."""
    lines = []
    for token in tokens:
        browser = requests.Session()
        browser.cookies.set("csrftoken", CSRF)
        answer = browser.post(f"{server.url}/j/{token}", data={"csrfmiddlewaretoken": CSRF}, allow_redirects=False,
                              timeout=10)
        assert answer.status_code == 302, (answer.status_code, answer.text[:300])
        stay = "; ".join(f"{c.name}={c.value}" for c in browser.cookies if c.name != "csrftoken")
        lines.append(f"{token} {stay}")
    return lines


def at_share_of_sustained(saturated: dict, share: float, measure) -> dict:
    """wrk paced to `share` of the sustained rate (wrk2 is not packaged in Debian): each connection
    waits between requests, the wait corrected once by the rate the first paced run reached."""
    target, connections = saturated["rate"] * share, saturated["connections"]
    delay = connections * 1000 / target
    paced = measure(delay_ms=delay)
    busy = connections * 1000 / paced["rate"] - delay  # what one request took, at that load
    return measure(delay_ms=max(delay - busy, 0.01))


def measure_portal(server: Server, tokens: dict, args, scratch: Path, *, paced: bool = False) -> dict:
    run = {"seconds": args.seconds, "connections": args.connections, "scratch": scratch}
    paths = {
        "/healthz": {"path": "/healthz"},
        "pre-join GET /j/<token>": {"lines": tokens["HS256"], "path": "/j/%s"},
        "room page, HS256 token": {"lines": joined_cookies(server, tokens["HS256"]), "path": "/j/%s/room/"},
        "room page, RS256 token": {"lines": joined_cookies(server, tokens["RS256"]), "path": "/j/%s/room/"},
        "join POST /j/<token> (takeover)": {"lines": [f"{token} csrftoken={CSRF}" for token in tokens["HS256"]],
                                            "path": "/j/%s", "method": "POST", "body": f"csrfmiddlewaretoken={CSRF}"},
    }
    figures = {}
    for what, request in paths.items():
        figures[what] = wrk(server.url, **request, **run)
        if paced:
            figures[f"  … at 80% of its rate: {what.split(' (')[0]}"] = at_share_of_sustained(
                {**figures[what], "connections": args.connections}, 0.8,
                lambda request=request, **pacing: wrk(server.url, **request, **run, **pacing))
    return figures


PRODUCTION = "gunicorn (WSGI), persistent connections"
CANDIDATES = {
    PRODUCTION: (
        ["{python}", "-m", "gunicorn", "portal.wsgi:application", "-w", WORKERS, "-b", "127.0.0.1:{port}",
         "--access-logfile", "/dev/null"], {"DATABASE_CONN_MAX_AGE": "600"}),
    "gunicorn (WSGI), a connection per request": (
        ["{python}", "-m", "gunicorn", "portal.wsgi:application", "-w", WORKERS, "-b", "127.0.0.1:{port}",
         "--access-logfile", "/dev/null"], {"DATABASE_CONN_MAX_AGE": "0"}),
    "uvicorn (ASGI, uvloop, httptools)": (
        ["{python}", "-m", "uvicorn", "portal.asgi:application", "--workers", WORKERS, "--port", "{port}",
         "--lifespan", "off", "--no-access-log", "--loop", "uvloop", "--http", "httptools"],
        {"DATABASE_CONN_MAX_AGE": "0"}),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--only", help="run only the candidates whose name contains this")
    args = parser.parse_args()
    ensure_wrk()
    scratch = Path(tempfile.mkdtemp(prefix="bench-http-"))
    env = portal_env(str(scratch / "var"))
    tokens = fresh_database(env)

    floor = Server("floor", [sys.executable, "-m", "gunicorn", "floor_wsgi:application", "-w", WORKERS, "-b",
                             "127.0.0.1:{port}", "--access-logfile", "/dev/null"], os.environ, BENCH / "floor")
    try:
        base = wrk(floor.url, seconds=args.seconds, connections=args.connections, scratch=scratch)
    finally:
        floor.stop()
    print(f"\nwrk -t2 -c{args.connections} -d{args.seconds}s, {WORKERS} server processes each\n")
    print(f"{'what':58} {'req/s':>8} {'ratio':>6} {'p50':>9} {'p99':>9}")
    print(f"{'floor: one Django view, gunicorn':58} {base['rate']:8.0f} {1:6.2f} {base['p50']:>9} {base['p99']:>9}")
    for label, (command, extra) in CANDIDATES.items():
        if args.only and args.only not in label:
            continue
        command = [part.replace("{python}", sys.executable) for part in command]
        server = Server(label, command, portal_env(str(scratch / "var"), **extra), ROOT)
        try:
            figures = measure_portal(server, tokens, args, scratch, paced=label == PRODUCTION)
        finally:
            server.stop()
        print(f"-- {label}")
        for what, figure in figures.items():
            bad = f"  ({figure['bad']} not 2xx/3xx)" if figure["bad"] else ""
            print(f"   {what:55} {figure['rate']:8.0f} {figure['rate'] / base['rate']:6.3f} {figure['p50']:>9} "
                  f"{figure['p99']:>9}{bad}", flush=True)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Secret URLs never reach the logs whole: join links, calendar feeds, shared recordings, set-password
links and signed query strings are logged with their secret cut to its first characters, in Django's
own warnings and in the web server's access log."""

import logging
import os
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from meetings import links
from meetings.models import CalendarFeed
from portal.logredact import RedactSecrets, redact
from portal.management.commands.runportal import socket_command, web_command

from .factories import InvitationFactory, MeetingFactory, UserFactory
from .processes import database_url_for_processes, free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("line", "logged"), [
    ('"GET /j/AbCdEfGhIjKl HTTP/1.1" 200', '"GET /j/AbCd… HTTP/1.1" 200'),
    ("Not Found: /j/AbCdEfGhIjKl/room/state", "Not Found: /j/AbCd…/room/state"),
    ("GET /j/AbCdEfGhIjKl/watch/rec123/", "GET /j/AbCd…/watch/rec123/"),
    ("https://meet.example.com/calendar/AbCdEfGhIjKl.ics", "https://meet.example.com/calendar/AbCd….ics"),
    ("/r/rec123/AbCdEfGhIjKl", "/r/rec123/AbCd…"),
    ("Gone: /invites/AbCdEfGhIjKl/", "Gone: /invites/AbCd…/"),
    ("/password/set/MQ/cxyz12-0123456789abcdef/", "/password/set/MQ/cxyz…/"),
    ("/password/set/MQ/set-password/", "/password/set/MQ/set-password/"),
    ("/recordings/rec123/media?s=AbCdEfGhIjKl&download=1", "/recordings/rec123/media?s=AbCd…&download=1"),
    ("/oidc/callback/?code=AbCdEfGhIjKl&state=ZyXwVuTsRq", "/oidc/callback/?code=AbCd…&state=ZyXw…"),
    ("/api/x?token=AbCdEfGhIjKl", "/api/x?token=AbCd…"),
    ("/o/acme/meetings/abc/?page=2", "/o/acme/meetings/abc/?page=2"),
])
def test_what_is_logged_of_each_secret_url(line, logged):
    assert redact(line) == logged
    assert redact(logged) == logged  # a record passes several handlers


@pytest.fixture
def secrets(db):
    """A joinable invitation, a calendar feed, a set-password link, and wrong links of each kind."""
    invitation = InvitationFactory(meeting=MeetingFactory(), display_name="Ana")
    person = UserFactory(email="feed@example.org")
    feed = CalendarFeed(user=person)
    feed.token_hash = links.token_hash(links.calendar_feed_token(feed))
    feed.save()
    return {
        "join": invitation.token,
        "wrong join": links.derive_token("no such invitation"),
        "feed": links.calendar_feed_token(feed),
        "wrong feed": links.derive_token("no such feed"),
        "set password": default_token_generator.make_token(person),
        "uid": urlsafe_base64_encode(force_bytes(person.pk)),
        "share": links.derive_token("no such share"),
        "signature": links.derive_token("no such signature"),
    }


def secret_values(secrets):
    return [value for name, value in secrets.items() if name != "uid"]


def walk(get, post, secrets):
    """What a person does: open their link, join, open the room; a wrong link; their calendar feed;
    a set-password link; a shared recording and a signed media URL that are not valid."""
    s = secrets
    assert get(f"/j/{s['join']}").status_code == 200
    assert post(f"/j/{s['join']}").status_code == 200  # followed to the room page
    assert get(f"/j/{s['wrong join']}").status_code == 404
    assert get(f"/calendar/{s['feed']}.ics").status_code == 200
    assert get(f"/calendar/{s['wrong feed']}.ics").status_code == 404
    assert get(f"/password/set/{s['uid']}/{s['set password']}/").status_code == 200  # followed to the form
    assert get(f"/r/nosuchrec/{s['share']}").status_code == 404
    assert get(f"/recordings/nosuchrec/media?s={s['signature']}").status_code == 404


def assert_no_secret(text, secrets):
    for secret in secret_values(secrets):
        assert secret not in text


def test_django_warnings_carry_no_secret(client, secrets, caplog):
    caplog.set_level(logging.INFO)

    walk(lambda path: client.get(path, follow=True), lambda path: client.post(path, follow=True), secrets)

    assert_no_secret(caplog.text, secrets)
    assert f"Not Found: /j/{secrets['wrong join'][:4]}…" in caplog.text
    assert f"Not Found: /calendar/{secrets['wrong feed'][:4]}….ics" in caplog.text
    assert "Not Found: /recordings/nosuchrec/media" in caplog.text


def test_a_logger_the_portal_does_not_know_yet_is_redacted_too(caplog):
    url = f"https://meet.example.com/j/{links.derive_token('x')}"

    logging.getLogger(f"portal.new_module_{uuid.uuid4().hex}").warning("mailed %s", url)

    assert links.derive_token("x") not in caplog.text and f"/j/{links.derive_token('x')[:4]}…" in caplog.text


def test_every_handler_the_portal_configures_redacts():
    assert all("redact" in handler.get("filters", []) for handler in settings.LOGGING["handlers"].values())
    # The loggers the portal's configuration names (other tests in this process may add their own).
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in settings.LOGGING["loggers"])]
    handlers = {handler for logger in loggers for handler in logger.handlers
                if not type(handler).__module__.startswith("_pytest") and not isinstance(handler, logging.NullHandler)}
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, RedactSecrets) for f in handler.filters), handler


class WebServer:
    """One of the portal's servers as `manage.py runportal` starts it (pages: gunicorn, room sockets:
    uvicorn), on the test database, with everything it prints to stdout and stderr kept in `output`."""

    READY = {"web": "Listening at:", "sockets": "Uvicorn running on"}

    def __init__(self, var_dir: Path, kind: str, *extra_args: str, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "PORTAL_VAR_DIR": str(var_dir), "SITE_URL": self.url,
                       "DATABASE_URL": database_url_for_processes(),
                       "SECRET_KEY": settings.SECRET_KEY, "CREDENTIALS_KEYS": ",".join(settings.CREDENTIALS_KEYS),
                       "REDIS_URL": settings.REDIS_URL, "CHANNELS_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
                       "LOG_LEVEL": "INFO", **env}
        command = {"web": web_command, "sockets": socket_command}[kind]("127.0.0.1", self.port)
        self.process = subprocess.Popen([*command, *extra_args], cwd=ROOT, env=environment,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        for line in self.process.stdout:  # blocks until the server reports it is listening
            self.lines.append(line)
            if self.READY[kind] in line:
                break
        else:
            raise RuntimeError("the server did not start:\n" + "".join(self.lines))
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self._reader.start()

    def stop(self) -> str:
        """Stop the server; everything it wrote."""
        self.process.terminate()
        self.process.wait(timeout=20)
        self._reader.join(timeout=20)
        return "".join(self.lines)


@pytest.fixture
def web_server(tmp_path):
    started = []

    def start(kind, *extra_args, **env):
        started.append(WebServer(tmp_path, kind, *extra_args, **env))
        return started[-1]

    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop()


def test_the_web_servers_logs_carry_no_secret(transactional_db, secrets, web_server):
    server, sockets = web_server("web"), web_server("sockets")
    browser = requests.Session()

    def post(path):
        browser.get(server.url + path)  # the page sets the CSRF cookie the form sends back
        return browser.post(server.url + path, data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
                            headers={"Referer": server.url + path})

    walk(lambda path: browser.get(server.url + path), post, secrets)
    with pytest.raises(InvalidStatus):  # the room socket, without the join session's cookie
        connect(f"ws://127.0.0.1:{sockets.port}/j/{secrets['join']}/ws", origin=server.url).close()
    output = server.stop() + sockets.stop()

    assert_no_secret(output, secrets)
    join = secrets["join"][:4]
    assert f'"GET /j/{join}… HTTP/1.1" 200' in output and f'"POST /j/{join}… HTTP/1.1" 302' in output
    assert f'"GET /j/{join}…/room/ HTTP/1.1" 200' in output
    assert f'"WebSocket /j/{join}…/ws" 403' in output
    assert f"Not Found: /j/{secrets['wrong join'][:4]}…" in output
    assert f'"GET /calendar/{secrets["feed"][:4]}….ics HTTP/1.1" 200' in output
    assert f'"GET /password/set/{secrets["uid"]}/{secrets["set password"][:4]}…/ HTTP/1.1" 302' in output
    assert f'"GET /recordings/nosuchrec/media?s={secrets["signature"][:4]}… HTTP/1.1" 404' in output


def test_no_access_log_still_turns_the_access_log_off(db, web_server):
    server = web_server("sockets", "--no-access-log")

    assert requests.get(f"{server.url}/j/{links.derive_token('x')}").status_code == 404
    output = server.stop()

    assert "Not Found: /j/" in output and "HTTP/1.1" not in output


def test_runportal_links_name_the_port_it_answers_on():
    from portal.management.commands.runportal import site_url

    assert site_url("127.0.0.1", 8130) == "http://127.0.0.1:8130"
    assert site_url("0.0.0.0", 8131) == "http://127.0.0.1:8131"  # noqa: S104 - an argument, nothing bound


def test_an_access_log_records_headers_are_blanked_where_they_carry_credentials():
    from gunicorn.glogging import SafeAtoms

    atoms = SafeAtoms({"r": f"GET /j/{links.derive_token('x')} HTTP/1.1", "{cookie}i": "join_abc=s3cret",
                       "{authorization}i": "Bearer k3y", "{user-agent}i": "curl", "s": 200})
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '%(r)s %({cookie}i)s', atoms, None)

    RedactSecrets().filter(record)

    assert isinstance(record.args, SafeAtoms) and record.args["{no-such-header}i"] == "-"
    assert record.args["{cookie}i"] == record.args["{authorization}i"] == "…"
    assert record.args["{user-agent}i"] == "curl" and "…" in record.args["r"] and record.args["s"] == 200

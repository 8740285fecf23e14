"""The client address every limit keys on: the connecting address, or behind TRUSTED_PROXY_COUNT proxies
the address the outermost trusted proxy saw; never what a client wrote in X-Forwarded-For itself."""

import pytest
import requests
from django.test import Client

from .test_log_redaction import web_server  # noqa: F401  (a fixture)

PROXY = "10.0.0.2"
LOOKUPS = 5


@pytest.fixture(autouse=True)
def limits(settings):
    settings.SIGN_IN_LOOKUPS_PER_ADDRESS = LOOKUPS
    settings.TRUSTED_PROXY_COUNT = 0


def lookups(client, forwarded_for=lambda n: None) -> list[int]:
    """Statuses of LOOKUPS + 1 email lookups, each sending the X-Forwarded-For that forwarded_for(n) gives."""
    statuses = []
    for n in range(LOOKUPS + 1):
        headers = {"HTTP_X_FORWARDED_FOR": forwarded_for(n)} if forwarded_for(n) is not None else {}
        statuses.append(client.post("/login/", {"identifier": "someone@example.org"}, **headers).status_code)
    return statuses


LIMITED = [302] * LOOKUPS + [429]


@pytest.mark.parametrize(("proxies", "forwarded_for"), [
    (0, lambda n: f"198.51.100.{n}"),  # no proxy: the header is the client's own writing
    (1, lambda n: f"198.51.100.{n}, 203.0.113.7"),  # entries left of the proxy's are the client's
    (1, lambda n: f"203.0.113.7:{n}"),  # not an address: the proxy's address, never a fresh bucket
    (1, lambda n: f"garbage-{n}"),
    (2, lambda n: f"203.0.113.{n}"),  # fewer entries than proxies
])
def test_what_a_client_writes_in_x_forwarded_for_gives_it_no_fresh_bucket(db, settings, proxies, forwarded_for):
    settings.TRUSTED_PROXY_COUNT = proxies

    assert lookups(Client(REMOTE_ADDR=PROXY), forwarded_for) == LIMITED


def test_behind_one_proxy_each_client_has_its_own_bucket(db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    behind_proxy = Client(REMOTE_ADDR=PROXY)

    assert lookups(behind_proxy, lambda n: "203.0.113.7") == LIMITED
    assert lookups(behind_proxy, lambda n: "203.0.113.8") == LIMITED
    assert lookups(behind_proxy, lambda n: "2001:db8::8") == LIMITED


def test_behind_two_proxies_the_address_the_outer_proxy_saw_counts(db, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    behind_proxies = Client(REMOTE_ADDR=PROXY)

    assert lookups(behind_proxies, lambda n: f"192.0.2.{n}, 203.0.113.7, 10.0.0.1") == LIMITED
    assert lookups(behind_proxies, lambda n: "203.0.113.8, 10.0.0.1") == LIMITED


def test_join_links_are_limited_per_client_behind_the_proxy(db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.JOIN_RATE_PER_IP = 1  # four opened links a minute
    behind_proxy = Client(REMOTE_ADDR=PROXY)

    first = [behind_proxy.get("/j/nope", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code for _ in range(5)]
    second = behind_proxy.get("/j/nope", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code

    assert first == [403] * 4 + [429] and second == 403


@pytest.mark.parametrize("kind", ["web", "sockets"])
def test_the_web_server_on_loopback_does_not_believe_x_forwarded_for(db, web_server, kind):  # noqa: F811
    server = web_server(kind, JOIN_RATE_PER_IP="1")

    statuses = [requests.get(f"{server.url}/j/nope", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
                for n in range(5)]
    server.stop()

    assert statuses == [403] * 4 + [429]

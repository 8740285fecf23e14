"""Every outbound call goes through portal.http, which refuses private addresses unless allowed."""

import pytest

from portal import http


def test_private_and_loopback_addresses_are_refused_by_default(settings, idp_a):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False

    for url in (f"{idp_a.issuer}/jwks", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises(http.BlockedAddress):
            http.get(url)


def test_allowed_loopback_calls_carry_our_user_agent(settings, idp_a):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True

    assert http.get(f"{idp_a.issuer}/jwks").status_code == 200
    assert [e for e in idp_a.log() if e["path"] == "/jwks"][-1]["user_agent"] == http.USER_AGENT


def test_only_http_urls_are_fetched():
    with pytest.raises(http.OutboundError):
        http.get("file:///etc/passwd")


def test_network_failures_become_outbound_errors(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True
    settings.OUTBOUND_TIMEOUT_SECONDS = 2

    with pytest.raises(http.OutboundError, match="failed"):
        http.get("http://127.0.0.1:9/")

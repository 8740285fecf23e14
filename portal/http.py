"""The one door for outbound HTTP: every call to an identity provider or video provider goes here.

It sets a timeout and a user agent, retries idempotent requests a bounded number of times on
connection errors and 502/503/504, and refuses to reach private, loopback or link-local addresses
unless settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES is true (an organization admin types these URLs, so
without the check they could make the portal probe its own network).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = "meeting-portal/1.0 (+self-hosted)"


class OutboundError(Exception):
    """A request that could not be made or did not succeed; the message is safe to show to an admin."""


class BlockedAddress(OutboundError):
    pass


def _check_destination(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundError(f"not an http(s) URL: {url!r}")
    if settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise OutboundError(f"cannot resolve {parts.hostname}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise BlockedAddress(f"{parts.hostname} resolves to a non-public address")


def _session(retries: bool) -> requests.Session:
    session = requests.Session()
    retry = Retry(0) if not retries else Retry(
        total=2,
        connect=2,
        read=1,
        status=2,
        backoff_factor=0.3,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}),
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def request(method: str, url: str, *, retries: bool = True, **kwargs) -> requests.Response:
    """Make a request; raises OutboundError on a blocked address or a network failure.

    retries=False leaves every retry to the caller (a client with its own backoff and rate limit).
    """
    _check_destination(url)
    kwargs.setdefault("timeout", settings.OUTBOUND_TIMEOUT_SECONDS)
    kwargs.setdefault("allow_redirects", False)
    try:
        with _session(retries) as session:
            return session.request(method, url, **kwargs)
    except requests.RequestException as exc:
        raise OutboundError(f"{method} {urlsplit(url).netloc} failed: {exc.__class__.__name__}") from exc


def get(url: str, **kwargs) -> requests.Response:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs) -> requests.Response:
    return request("POST", url, **kwargs)

#!/usr/bin/env python
"""Gcore join cost with HS256 and with RS256 signing, side by side in one run: the room page (which
mints the person's token) for joined invitees, plus the bare signature with and without the
per-process key cache. Prints requests per second and the RS256/HS256 ratio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal REDIS_URL=redis://127.0.0.1:6379/15 \\
        .venv/bin/python bench/gcore_minting.py
"""

import time
from datetime import timedelta

import jwt
from django.db import connection
from django.test import Client
from django.utils import timezone
from setup import fresh_database  # sets Django up before any model is imported

ROOM_PAGES = 300
SIGNATURES = 2000


def per_second(count, seconds):
    return count / seconds


def time_room_pages(account, organization, owner, room):
    from meetings.models import Meeting
    from meetings.services import invitations, scheduling

    start = timezone.now() + timedelta(minutes=5)
    meeting = scheduling.meeting_schedule(organization=organization, room=room, owner=owner,
                                          title=f"Bench {account.jwt_algorithm}", start=start,
                                          end=start + timedelta(hours=1), timezone_name="UTC", provider="gcore",
                                          max_broadcasters=20)
    Meeting.objects.filter(pk=meeting.pk).update(provider_account=account)
    browser = Client()
    tokens = []
    for n in range(20):
        token = invitations.invitation_create(meeting=meeting, email=f"{account.jwt_algorithm}{n}@example.net",
                                              send_email=False)[1]
        browser.cookies.clear()
        browser.post(f"/j/{token}")
        tokens.append((token, browser.cookies.copy()))
    started = time.perf_counter()
    for i in range(ROOM_PAGES):
        token, cookies = tokens[i % len(tokens)]
        browser.cookies = cookies
        assert browser.get(f"/j/{token}/room/").status_code == 200
    return per_second(ROOM_PAGES, time.perf_counter() - started)


def time_signatures(account, *, cached: bool):
    from meetings.providers import signing

    claims = {"roomId": "serv0bench", "peerId": "p", "iat": 0}
    started = time.perf_counter()
    for _ in range(SIGNATURES):
        if not cached:
            signing.forget(account.pk)
        signing.mint(account, claims)
    return per_second(SIGNATURES, time.perf_counter() - started)


def main():
    from tenant import organization_with_room

    with fresh_database():
        from meetings.models import ProviderAccount
        from meetings.services.accounts import generate_rsa_pair

        owner, organization, room = organization_with_room("bench", "Bench")
        hs256 = ProviderAccount.objects.create(organization=organization, name="HS", provider="gcore",
                                               jwt_secret="x" * 32, is_default=True)
        rs256 = generate_rsa_pair(ProviderAccount.objects.create(organization=organization, name="RS",
                                                                 provider="gcore"))
        print(f"{connection.vendor}; PyJWT {jwt.__version__}")
        rates = {}
        for account in (hs256, rs256):
            rates[account.jwt_algorithm] = time_room_pages(account, organization, owner, room)
            print(f"room page with a {account.jwt_algorithm} token   {rates[account.jwt_algorithm]:8.0f} req/s")
        print(f"RS256 cost per join / HS256 cost per join: {rates['HS256'] / rates['RS256']:.2f}x")
        for account in (hs256, rs256):
            print(f"{account.jwt_algorithm} signatures, key cached        "
                  f"{time_signatures(account, cached=True):8.0f} /s")
        print(f"RS256 signatures, PEM parsed each time {time_signatures(rs256, cached=False):8.0f} /s")


if __name__ == "__main__":
    main()

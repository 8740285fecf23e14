"""The room page mints a provider token on every load, so its loads are limited per stay (join session):
ROOM_PAGE_LOADS_PER_STAY in 10 minutes, then 429 with Retry-After and a page that says to wait."""

import pytest
from django.conf import settings
from django.test import Client

from ..factories import InvitationFactory, MeetingFactory


@pytest.fixture
def meeting(db):
    return MeetingFactory(title="Quarterly review")


def entered(invitation) -> Client:
    browser = Client()
    assert browser.post(f"/j/{invitation.token}").status_code == 302
    return browser


def test_a_burst_of_reloads_is_refused_with_retry_after_and_a_clear_page(meeting):
    ana, bo = InvitationFactory(meeting=meeting), InvitationFactory(meeting=meeting)
    browser = entered(ana)
    room = f"/j/{ana.token}/room/"

    assert all(browser.get(room).status_code == 200 for _ in range(settings.ROOM_PAGE_LOADS_PER_STAY))
    refused = browser.get(room)

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 600
    page = refused.content.decode()
    assert 'data-denial="rate_limited"' in page and "loaded too many times" in page
    assert "Quarterly review" in page and 'id="room"' not in page
    # Per stay: someone else in the same meeting loads the room as usual.
    assert entered(bo).get(f"/j/{bo.token}/room/").status_code == 200
    # A stay that ended still says why, whatever its count; the new stay has a budget of its own.
    phone = entered(ana)
    replaced = browser.get(room)
    assert replaced.status_code == 409 and "You joined from somewhere else" in replaced.content.decode()
    assert phone.get(room).status_code == 200


def test_normal_use_is_never_limited(meeting):
    ana = InvitationFactory(meeting=meeting)
    browser = entered(ana)

    # The first load, reloads after a role change or a lost connection, and the page's own checks.
    for _ in range(5):
        page = browser.get(f"/j/{ana.token}/room/")
        assert page.status_code == 200 and "Retry-After" not in page
        assert browser.get(f"/j/{ana.token}/room/state").status_code == 200
    assert settings.ROOM_PAGE_LOADS_PER_STAY >= 10

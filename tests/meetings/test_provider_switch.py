"""A meeting can move to another video provider until it starts, and nobody's link changes; once it
has started it stays where it is. Scheduling never calls a provider (its room is made on first join)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from meetings.models import Occurrence
from meetings.services import scheduling

from ..factories import InvitationFactory, ProviderAccountFactory, RoomFactory

PROJECT = "5f0c7c50-7b3a-4a3e-9d1e-3f1b2a9c0d11"
TOKEN = "PTswitch-token"


@pytest.fixture
def signalwire(acme, signalwire_api, settings):
    settings.SIGNALWIRE_BASE_URL = signalwire_api.url
    signalwire_api.reset(project_id=PROJECT, api_token=TOKEN)
    ProviderAccountFactory(organization=acme, provider="signalwire", jwt_secret="", join_mode="video",
                           space_host="acme.signalwire.com", project_id=PROJECT, api_token=TOKEN, is_default=True)
    return signalwire_api


def schedule(acme, alice, starts_in, provider="builtin"):
    start = timezone.now().replace(microsecond=0) + starts_in
    return scheduling.meeting_schedule(organization=acme, room=RoomFactory(organization=acme, owner=alice.user),
                                       owner=alice.user, title="Weekly", start=start, end=start + timedelta(hours=1),
                                       timezone_name="Europe/Berlin", provider=provider)


def test_a_meeting_moves_to_signalwire_before_it_starts_and_the_same_link_joins_there(acme, alice, signalwire):
    meeting = schedule(acme, alice, timedelta(minutes=10))
    guest = InvitationFactory(meeting=meeting, display_name="Gus")
    link_before = guest.links.get(revoked_at__isnull=True).token_hash

    scheduling.meeting_update(meeting=meeting, provider="signalwire")

    meeting.refresh_from_db()
    assert meeting.provider == "signalwire" and meeting.provider_account.provider == "signalwire"
    assert guest.links.get(revoked_at__isnull=True).token_hash == link_before
    browser = Client()
    browser.post(f"/j/{guest.token}")
    page = browser.get(f"/j/{guest.token}/room/")
    assert page.status_code == 200 and 'data-mode="video"' in page.content.decode()
    assert signalwire.requests("/api/video/room_tokens", "POST")[-1]["body"]["user_name"] == "Gus"


def test_scheduling_on_signalwire_calls_nothing_until_someone_joins(acme, alice, signalwire):
    schedule(acme, alice, timedelta(days=2), provider="signalwire")
    assert signalwire.requests() == []


def test_once_it_has_started_the_provider_stays(acme, alice, signalwire):
    started = schedule(acme, alice, timedelta(minutes=1))
    started.occurrences.update(start=timezone.now() - timedelta(minutes=5))  # and now it is running
    with pytest.raises(ValidationError) as refused:
        scheduling.meeting_update(meeting=started, provider="signalwire")
    assert "already started" in str(refused.value)

    opened_early = schedule(acme, alice, timedelta(minutes=20))
    opened_early.occurrences.update(status=Occurrence.Status.LIVE)  # people joined before the start
    with pytest.raises(ValidationError):
        scheduling.meeting_update(meeting=opened_early, provider="signalwire")
    started.refresh_from_db()
    assert started.provider == opened_early.provider == "builtin"

"""Gcore's Meet server API: a host's removal and "end for everyone" reach the provider's live room."""

import pytest
from django.utils import timezone

from accounts.models import Membership
from meetings.models import Invitation, JoinSession
from meetings.providers.base import ProviderError
from meetings.providers.gcore.provider import room_id
from meetings.providers.gcore.server import ServerClient, server_url
from meetings.services import joining
from meetings.services.provider_access import access_check
from meetings.tasks import tell_provider

from ..factories import GcoreMeetingFactory, InvitationFactory, ProviderAccountFactory

TOKEN = "server-token"


@pytest.fixture
def meeting(acme, alice, gcore_api, settings):
    settings.GCORE_SERVER_BASE_URL = gcore_api.url
    gcore_api.reset(TOKEN)
    account = ProviderAccountFactory(organization=acme, api_token=TOKEN)
    return GcoreMeetingFactory(organization=acme, provider_account=account, owner=alice.user)


@pytest.fixture
def eve(meeting, gcore_api):
    invitation = InvitationFactory(meeting=meeting, display_name="Eve")
    session = joining.join(joining.check(joining.find_link(invitation.token), timezone.now()), timezone.now())[0]
    gcore_api.set(rooms={room_id(meeting): [invitation.peer_id, "someone-else"]})
    return session


def server_calls(gcore_api):
    return [(e["method"], e["path"], e.get("body")) for e in gcore_api.log() if e["path"].startswith("/rooms/")]


def test_each_region_has_its_server_from_the_seed(settings):
    settings.GCORE_SERVER_BASE_URL = ""
    assert [server_url(f"serv{n}abc") for n in range(4)] == [
        "https://webrtc3.gvideo.co", "https://webrtc4.gvideo.co", "https://webrtc5.gvideo.co",
        "https://webrtc6.gvideo.co"]


def test_a_host_removes_someone_and_the_provider_disconnects_them(meeting, eve, gcore_api, client,
                                                                  django_capture_on_commit_callbacks):
    client.force_login(meeting.owner)
    url = f"/o/acme/meetings/{meeting.code}/invitations/{eve.invitation.code}/remove/"
    assert "Remove Eve from the room?" in client.get(url).content.decode()  # asks first

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)

    room = room_id(meeting)
    assert server_calls(gcore_api) == [("POST", f"/rooms/{room}/closePeer", {"peerId": eve.invitation.peer_id})]
    assert gcore_api.log()[-1]["authorization"] == f"APIKey {TOKEN}"
    assert ServerClient(meeting.provider_account).number_peers(room) == 1
    assert JoinSession.objects.get(pk=eve.pk).end_reason == "removed"
    assert access_check(account=meeting.provider_account, access_token="x", room_id=room,
                        peer_id=eve.invitation.peer_id).status == 401
    page = client.get(f"/o/acme/meetings/{meeting.code}/").content.decode()
    assert "Let back in" in page

    client.post(f"/o/acme/meetings/{meeting.code}/invitations/{eve.invitation.code}/readmit/")
    assert Invitation.objects.get(pk=eve.invitation.pk).removed_at is None


def test_ending_a_sitting_for_everyone_closes_the_providers_room(meeting, eve, gcore_api, client,
                                                                 django_capture_on_commit_callbacks):
    client.force_login(meeting.owner)
    sitting = meeting.occurrences.get()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/o/acme/meetings/{meeting.code}/occurrences/{sitting.code}/end/")

    room = room_id(meeting)
    assert server_calls(gcore_api)[-1] == ("GET", f"/rooms/{room}/closeRoom", {})
    assert ServerClient(meeting.provider_account).number_peers(room) == 0  # gone: nobody there
    assert JoinSession.objects.get(pk=eve.pk).end_reason == "ended"


def test_a_server_outage_is_retried_and_the_portal_has_already_shut_the_door(meeting, eve, gcore_api):
    gcore_api.set(fail_next=100)
    joining.remove_from_room(eve)

    outcome = tell_provider.apply(args=[meeting.pk, "remove", eve.invitation_id], retries=6)  # the last try

    assert outcome.failed() and isinstance(outcome.result, ProviderError)
    assert access_check(account=meeting.provider_account, access_token="x", room_id=room_id(meeting),
                        peer_id=eve.invitation.peer_id).status == 401


def test_a_wrong_token_is_a_permanent_error_and_a_missing_room_is_already_closed(meeting, gcore_api):
    client = ServerClient(meeting.provider_account)
    assert client.close_room("serv0nosuchroom") is False
    assert client.number_peers("serv0nosuchroom") == 0

    meeting.provider_account.api_token = "wrong"
    with pytest.raises(ProviderError) as refused:
        ServerClient(meeting.provider_account).close_room(room_id(meeting))
    assert refused.value.permanent and "403" in str(refused.value)


def test_removal_needs_a_host_of_the_organization(meeting, eve, client, bob):
    Membership.objects.filter(user=bob.user).update(role="member")
    client.force_login(bob.user)
    response = client.post(f"/o/acme/meetings/{meeting.code}/invitations/{eve.invitation.code}/remove/")
    assert response.status_code == 403
    assert JoinSession.objects.get(pk=eve.pk).ended_at is None

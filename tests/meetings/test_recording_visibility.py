"""Each recording's visibility, set by the host: hosts only, the meeting's invitees, the whole
organization, or anyone with its secret link."""

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client

from accounts.models import Membership
from meetings.models import Recording
from meetings.services import invitations, scheduling

from ..factories import InvitationFactory, MeetingFactory, MembershipFactory

VIDEO = b"\x1aE\xdf\xa3 a tiny webm"


@pytest.fixture
def meeting(acme, alice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return MeetingFactory(organization=acme, owner=alice.user, title="Quarterly review")


@pytest.fixture
def recording(meeting):
    recording = Recording.objects.create(organization=meeting.organization, meeting=meeting, status="ready",
                                         duration_seconds=754)
    recording.file.save("r.webm", ContentFile(VIDEO))
    return recording


@pytest.fixture
def eve(meeting):
    """An outside invitee: no account, only her personal link."""
    return InvitationFactory(meeting=meeting, display_name="Eve", email="eve@outside.example")


@pytest.fixture
def colleague(acme):
    """A member of the organization who was not invited."""
    return MembershipFactory(organization=acme, role="member").user


def host_sets(client, meeting, recording, visibility, **extra):
    client.force_login(meeting.owner)
    return client.post(f"/o/acme/meetings/{meeting.code}/recordings/{recording.code}/visibility/",
                       {"visibility": visibility, **extra}, follow=True)


def watch(user, recording):
    client = Client()
    client.force_login(user)
    return client.get(f"/o/acme/recordings/{recording.code}/")


def media_bytes(page):
    """Follow a watch page's time-limited file address, as its video element does."""
    src = page.content.decode().split('<video controls preload="metadata" src="')[1].split('"')[0]
    return Client().get(src.replace("&amp;", "&"))


def ended_link_page(meeting, invitation):
    scheduling.occurrence_end(occurrence=meeting.occurrences.first())
    return Client().get(f"/j/{invitation.token}")


def test_by_default_only_hosts_watch(meeting, recording, eve, colleague, client):
    assert watch(colleague, recording).status_code == 404
    assert client.get(f"/j/{eve.token}/watch/{recording.code}/").status_code == 404
    assert "Recordings" not in ended_link_page(meeting, eve).content.decode()

    page = watch(meeting.owner, recording)
    assert page.status_code == 200 and "12 min 34 s" in page.content.decode()
    assert b"".join(media_bytes(page).streaming_content) == VIDEO


def test_invitees_watch_through_their_personal_link_and_the_uninvited_do_not(meeting, recording, eve,
                                                                             colleague, client):
    host_sets(client, meeting, recording, "invitees")

    after = ended_link_page(meeting, eve).content.decode()
    assert f"/j/{eve.token}/watch/{recording.code}/" in after
    page = Client().get(f"/j/{eve.token}/watch/{recording.code}/")
    assert page.status_code == 200 and b"".join(media_bytes(page).streaming_content) == VIDEO
    assert watch(colleague, recording).status_code == 404

    InvitationFactory(meeting=meeting, email=colleague.email)  # invited by email: the account matches
    assert watch(colleague, recording).status_code == 200


def test_the_whole_organization_watches_and_no_other_organization_does(meeting, recording, colleague, client,
                                                                       charlie):
    host_sets(client, meeting, recording, "organization")

    assert watch(colleague, recording).status_code == 200
    outsider = Client()
    outsider.force_login(charlie.user)
    assert outsider.get(f"/o/acme/recordings/{recording.code}/").status_code == 404


def test_anyone_with_the_secret_link_watches_until_it_is_replaced(meeting, recording, client):
    page = host_sets(client, meeting, recording, "link").content.decode()
    shared = page.split('aria-label="Secret link of the recording"')[0].rsplit('value="', 1)[1].split('"')[0]

    anonymous = Client().get(shared.removeprefix(settings.SITE_URL))
    assert anonymous.status_code == 200 and "Quarterly review" in anonymous.content.decode()
    assert b"".join(media_bytes(anonymous).streaming_content) == VIDEO

    host_sets(client, meeting, recording, "link", new_link="1")
    assert Client().get(shared.removeprefix(settings.SITE_URL)).status_code == 404
    host_sets(client, meeting, recording, "hosts")
    assert Recording.objects.get(pk=recording.pk).visibility == "hosts"


def test_a_file_address_without_a_valid_signature_serves_nothing(recording):
    assert Client().get(f"/recordings/{recording.code}/media?s=forged").status_code == 404
    assert Client().get(f"/recordings/{recording.code}/media").status_code == 404


def test_only_the_meetings_hosts_choose_visibility(meeting, recording, colleague):
    Membership.objects.filter(user=colleague).update(role="member")
    client = Client()
    client.force_login(colleague)
    response = client.post(f"/o/acme/meetings/{meeting.code}/recordings/{recording.code}/visibility/",
                           {"visibility": "link"})
    assert response.status_code == 403
    assert Recording.objects.get(pk=recording.pk).visibility == "hosts"


def test_a_provider_recording_plays_through_hls_js_served_by_the_portal(meeting, client):
    Recording.objects.create(organization=meeting.organization, meeting=meeting, status="ready", provider="gcore",
                             provider_recording_id="7", hls_url="https://cdn.example/7/master.m3u8",
                             download_url="https://cdn.example/7/1080.mp4", duration_seconds=3600)
    client.force_login(meeting.owner)

    page = client.get(f"/o/acme/meetings/{meeting.code}/").content.decode()

    assert 'data-hls="https://cdn.example/7/master.m3u8"' in page and "1 h 00 min" in page
    script = page.split('<script src="')[-2].split('"')[0]
    assert script.endswith("vendor/hls.js/hls.min.js")
    served = client.get(script)
    assert served.status_code == 200 and b"1.7.4" in b"".join(served.streaming_content)


def test_a_person_removed_from_the_meeting_no_longer_watches_its_recordings(meeting, recording, eve, client):
    host_sets(client, meeting, recording, "invitees")
    assert Client().get(f"/j/{eve.token}/watch/{recording.code}/").status_code == 200
    invitations.invitation_remove_from_room(invitation=eve)

    after = ended_link_page(meeting, eve)

    assert after.status_code == 401 and recording.code not in after.content.decode()
    assert Client().get(f"/j/{eve.token}/watch/{recording.code}/").status_code == 404
    invitations.invitation_readmit(invitation=eve)  # a moderator lets her back: she watches again
    assert Client().get(f"/j/{eve.token}/watch/{recording.code}/").status_code == 200


def test_a_person_whose_invitation_was_withdrawn_no_longer_watches_its_recordings(meeting, recording, eve,
                                                                                 client):
    host_sets(client, meeting, recording, "invitees")
    invitations.invitation_revoke(invitation=eve)

    after = ended_link_page(meeting, eve)

    assert after.status_code == 401 and recording.code not in after.content.decode()
    assert Client().get(f"/j/{eve.token}/watch/{recording.code}/").status_code == 404


def test_a_removed_or_withdrawn_member_is_no_invitee_of_the_recording(meeting, recording, colleague, client):
    host_sets(client, meeting, recording, "invitees")
    invitation = InvitationFactory(meeting=meeting, email=colleague.email)
    assert watch(colleague, recording).status_code == 200

    invitations.invitation_remove_from_room(invitation=invitation)
    assert watch(colleague, recording).status_code == 404
    invitations.invitation_readmit(invitation=invitation)
    invitations.invitation_revoke(invitation=invitation)
    assert watch(colleague, recording).status_code == 404

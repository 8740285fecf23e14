"""The built-in room page and the pre-join page as the server renders them: only the controls a role can
use, the room's texts handed to its script, the portal's top bar gone, joining muted, who invited whom."""

import json
import re

import pytest

from ..factories import InvitationFactory, MeetingFactory, MembershipFactory, UserFactory


@pytest.fixture
def meeting(acme):
    return MeetingFactory(organization=acme, title="Weekly sync", recording_allowed=True)


def room_for(client, invitation, **data):
    response = client.post(f"/j/{invitation.token}", data)
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def test_a_participant_gets_media_controls_but_no_record_and_no_moderation(client, meeting):
    html = room_for(client, InvitationFactory(meeting=meeting, display_name="Pete", role="participant"))

    assert 'id="toggle-mic"' in html and 'id="toggle-camera"' in html and 'id="toggle-screen"' in html
    assert 'id="toggle-record"' not in html and 'id="end-all"' not in html
    assert 'class="topbar"' not in html and "Sign out" not in html


def test_a_host_may_record_and_moderate(client, meeting):
    html = room_for(client, InvitationFactory(meeting=meeting, display_name="Hana", role="host"))

    assert 'id="toggle-record"' in html and 'id="end-all"' in html and 'id="mute-all"' in html


def test_no_record_button_when_the_meeting_does_not_allow_recording(client, meeting):
    meeting.recording_allowed = False
    meeting.save()

    html = room_for(client, InvitationFactory(meeting=meeting, display_name="Hana", role="host"))

    assert 'id="toggle-record"' not in html


def test_a_webinar_viewer_gets_no_media_controls(client, meeting):
    meeting.kind = "webinar"
    meeting.save()
    vic = InvitationFactory(meeting=meeting, display_name="Vic", role="viewer")

    assert 'id="join-muted"' not in client.get(f"/j/{vic.token}").content.decode()
    html = room_for(client, vic)

    for control in ("toggle-mic", "toggle-camera", "toggle-screen", "show-devices", "camera-select"):
        assert f'id="{control}"' not in html
    assert 'id="leave"' in html and 'id="show-people"' in html


def test_the_room_script_gets_every_text_from_the_page(client, meeting):
    html = room_for(client, InvitationFactory(meeting=meeting, display_name="Pete", role="participant"))

    found = re.search(r'<script id="room-strings" type="application/json">(.*?)</script>', html, re.S)
    strings = json.loads(found.group(1))
    assert strings["unmute"] == "Unmute" and "{name}" in strings["confirm_remove"]


def test_joining_muted_opens_the_room_with_the_microphone_off(client, meeting):
    ana = InvitationFactory(meeting=meeting, display_name="Ana", role="participant")

    response = client.post(f"/j/{ana.token}", {"muted": "1"})

    assert response["Location"] == f"/j/{ana.token}/room/?muted=1"
    assert 'data-join-muted="true"' in client.get(response["Location"]).content.decode()
    assert 'data-join-muted' not in client.get(f"/j/{ana.token}/room/").content.decode()


def test_the_pre_join_page_names_who_invited_and_both_zones(client, meeting, acme):
    host = MembershipFactory(organization=acme, role="host", user=UserFactory(email="hana@acme.test")).user
    ana = InvitationFactory(meeting=meeting, display_name="Ana", role="participant", invited_by=host)
    ana.timezone = "America/New_York"
    ana.save()

    html = client.get(f"/j/{ana.token}").content.decode()

    assert f'id="invited-by">Invited by {host.display_name}<' in html
    assert "meeting time, Europe/Berlin" in html and "your time, America/New_York" in html
    assert 'id="join-muted"' in html and 'id="mic-level"' in html


def test_the_pre_join_page_never_shows_the_inviters_email_address(client, meeting, acme):
    nameless = UserFactory(email="hana@acme.test", full_name="")
    host = MembershipFactory(organization=acme, role="host", user=nameless).user
    ana = InvitationFactory(meeting=meeting, display_name="Ana", role="participant", invited_by=host)

    html = client.get(f"/j/{ana.token}").content.decode()

    assert "hana@acme.test" not in html and 'id="invited-by"' not in html


def test_the_pre_join_page_shows_one_zone_when_they_are_the_same(client, meeting):
    ana = InvitationFactory(meeting=meeting, display_name="Ana", role="participant")

    html = client.get(f"/j/{ana.token}").content.decode()

    assert "meeting time, Europe/Berlin" in html and 'id="own-time"' not in html and 'id="invited-by"' not in html


def test_a_guest_without_a_browser_language_gets_the_organizations(client, acme):
    acme.default_locale = "de"
    acme.save(update_fields=["default_locale"])
    meeting = MeetingFactory(organization=acme)
    guest = InvitationFactory(meeting=meeting)

    page = client.get(f"/j/{guest.token}")

    assert page["Content-Language"] == "de" and '<html lang="de">' in page.content.decode()
    english = client.get(f"/j/{guest.token}", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert english["Content-Language"] == "en"

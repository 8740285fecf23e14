"""The Gcore room page: the iframe with its permissions, and the bridge's events about the person
relayed to the portal so the host's page shows live state."""

import json

import pytest
from django.test import Client

from meetings.models import JoinSession

from ..factories import GcoreMeetingFactory, InvitationFactory, ProviderAccountFactory


@pytest.fixture
def meeting(acme, alice):
    account = ProviderAccountFactory(organization=acme, meet_domain="acme.gvideo.co")
    return GcoreMeetingFactory(organization=acme, provider_account=account, owner=alice.user)


@pytest.fixture
def eve(meeting):
    """Eve has joined through her link: her browser holds the join session's cookie."""
    invitation = InvitationFactory(meeting=meeting, display_name="Eve")
    browser = Client(enforce_csrf_checks=True)
    prejoin = browser.get(f"/j/{invitation.token}")
    csrf = prejoin.cookies["csrftoken"].value
    assert browser.post(f"/j/{invitation.token}", {"csrfmiddlewaretoken": csrf}).status_code == 302
    browser.invitation, browser.csrf = invitation, csrf
    return browser


def bridge(browser, event, peer_id=None, csrf=True):
    body = {"event": event, "peerId": browser.invitation.peer_id if peer_id is None else peer_id}
    headers = {"HTTP_X_CSRFTOKEN": browser.csrf} if csrf else {}
    return browser.post(f"/j/{browser.invitation.token}/room/bridge", json.dumps(body),
                        content_type="application/json", **headers)


def host_state(meeting, host_client):
    page = host_client.get(f"/o/acme/meetings/{meeting.code}/").content.decode()
    return page.split('data-invitee="')[1].split('<span class="state">')[1].split("</span>")[0]


def test_the_room_page_embeds_the_room_and_wires_the_bridge(meeting, eve):
    page = eve.get(f"/j/{eve.invitation.token}/room/").content.decode()

    assert 'allow="camera; microphone; fullscreen; display-capture; autoplay; screen-wake-lock"' in page
    assert 'data-bridge="https://acme.gvideo.co/meetBridgeApi.js"' in page
    events = page.split('data-events="')[1].split('"')[0].split(",")
    assert {"join", "peerClosed", "connectionFailed", "switchOnMic", "switchOffCamera"} <= set(events)
    assert "room_iframe.js" in page


def test_bridge_events_move_the_persons_live_state_on_the_hosts_page(meeting, eve, client):
    client.force_login(meeting.owner)
    assert host_state(meeting, client) == "In the room"

    for event in ("join", "switchOnMic", "switchOnCamera", "switchOffCamera"):
        assert bridge(eve, event).json() == {"applied": True}
    assert host_state(meeting, client) == "In the room · microphone on"
    session = JoinSession.objects.get(invitation=eve.invitation)
    assert session.connected and session.audio_on and not session.video_on

    bridge(eve, "connectionFailed")
    assert host_state(meeting, client) == "In the room · connection lost"
    bridge(eve, "join")
    assert host_state(meeting, client) == "In the room · microphone on"


def test_a_page_reports_only_its_own_person_and_only_known_events(meeting, eve):
    assert bridge(eve, "peerClosed", peer_id="someone-else").json() == {"applied": False}
    assert bridge(eve, "getScreenshotByPeerId").json() == {"applied": False}
    assert bridge(eve, "switchOnMic", csrf=False).status_code == 403
    assert Client().post(f"/j/{eve.invitation.token}/room/bridge", "{}",
                         content_type="application/json").status_code == 404  # no join session cookie
    assert bridge(eve, "switchOnMic", peer_id="").json() == {"applied": True}  # events about oneself
    session = JoinSession.objects.get(invitation=eve.invitation)
    assert session.audio_on and session.ended_at is None


@pytest.mark.parametrize("body", ["[" * 100000 + "]" * 100000, '["event"]', "not json", '{"peerId": "x"}',
                                  '{"event": "join", "peerId": "' + "p" * 101 + '"}',
                                  '{"event": "' + "j" * 51 + '"}'])
def test_malformed_bridge_reports_are_refused_and_change_nothing(meeting, eve, body):
    before = list(JoinSession.objects.values("connected", "audio_on", "video_on"))

    response = eve.post(f"/j/{eve.invitation.token}/room/bridge", body, content_type="application/json",
                        HTTP_X_CSRFTOKEN=eve.csrf)

    assert response.status_code == 400
    assert list(JoinSession.objects.values("connected", "audio_on", "video_on")) == before


def test_ready_to_join_is_not_being_in_the_room(meeting, eve, client):
    # The seed: readyToJoin says the room can be joined (the page then calls the bridge's "join").
    client.force_login(meeting.owner)
    bridge(eve, "join")
    bridge(eve, "connectionFailed")

    assert bridge(eve, "readyToJoin").json() == {"applied": False}

    assert host_state(meeting, client) == "In the room · connection lost"
    assert not JoinSession.objects.get(invitation=eve.invitation).connected
    page = eve.get(f"/j/{eve.invitation.token}/room/").content.decode()
    assert "readyToJoin" not in page.split('data-events="')[1].split('"')[0].split(",")


@pytest.mark.parametrize("kind, role, sends", [("call", "participant", "true"), ("webinar", "speaker", "true"),
                                               ("webinar", "viewer", "false")])
def test_the_room_page_says_whether_the_bridge_joins_with_camera_and_microphone(acme, kind, role, sends):
    account = ProviderAccountFactory(organization=acme, meet_domain="acme.gvideo.co")
    meeting = GcoreMeetingFactory(organization=acme, provider_account=account, kind=kind)
    invitation = InvitationFactory(meeting=meeting, role=role)
    browser = Client()
    browser.post(f"/j/{invitation.token}")

    page = browser.get(f"/j/{invitation.token}/room/").content.decode()

    assert f'data-sends-media="{sends}"' in page
    assert ' src="https://acme.gvideo.co' not in page and 'data-src="https://acme.gvideo.co/' in page

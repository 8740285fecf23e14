"""Gcore's access check (accessUrl): every answer the contract defines."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from meetings import links
from meetings.models import Invitation, JoinSession, ProviderAccount
from meetings.providers.gcore.provider import room_id
from meetings.services import invitations, joining, scheduling
from meetings.services.provider_access import access_check

from ..factories import GcoreMeetingFactory, InvitationFactory, MeetingFactory, ProviderAccountFactory

HEADER = "Basic Z2NvcmVfbWVldDpzZWNyZXQ="


@pytest.fixture
def account(acme):
    return ProviderAccountFactory(organization=acme, access_secret=HEADER, join_mode="access_check")


@pytest.fixture
def meeting(account):
    return GcoreMeetingFactory(organization=account.organization, provider_account=account)


def joined(invitation) -> JoinSession:
    link = joining.find_link(invitation.token)
    return joining.join(joining.check(link, timezone.now()), timezone.now())[0]


def check(account, session=None, *, meeting=None, peer=None, token=None, header=HEADER, body=None):
    meeting = meeting or session.occurrence.meeting
    payload = body if body is not None else {
        "accessToken": token if token is not None else links.access_token(session),
        "roomId": room_id(meeting), "peerId": peer if peer is not None else session.invitation.peer_id}
    return Client().post(f"/providers/gcore/{account.code}/access", json.dumps(payload),
                         content_type="application/json", HTTP_AUTHORIZATION=header)


def test_a_joined_person_is_allowed_and_reconnects_are_allowed_again(account, meeting):
    session = joined(InvitationFactory(meeting=meeting))

    assert check(account, session).status_code == 200
    assert check(account, session).status_code == 200
    assert JoinSession.objects.get(pk=session.pk).provider_admitted


def test_missing_fields_answer_400(account, meeting):
    session = joined(InvitationFactory(meeting=meeting))

    assert check(account, session, token="").status_code == 400
    assert check(account, body={"roomId": "serv0x"}, meeting=meeting).status_code == 400


def test_a_withdrawn_link_or_a_removed_person_answers_401(account, meeting):
    revoked = joined(InvitationFactory(meeting=meeting))
    removed = joined(InvitationFactory(meeting=meeting))
    invitations.invitation_revoke(invitation=revoked.invitation)
    joining.remove_from_room(removed)

    assert check(account, revoked).status_code == 401
    assert check(account, removed).status_code == 401


def test_a_wrong_token_or_an_unknown_peer_answers_403(account, meeting):
    session = joined(InvitationFactory(meeting=meeting))

    assert check(account, session, token=links.derive_token("forged")).status_code == 403
    assert check(account, session, peer="not-a-peer").status_code == 403


def test_an_unknown_room_answers_404(account, meeting):
    session = joined(InvitationFactory(meeting=meeting))
    other = MeetingFactory(organization=account.organization)
    other_room = room_id(other).replace(other.ical_uid[:8], "00000000")

    response = Client().post(f"/providers/gcore/{account.code}/access", json.dumps({
        "accessToken": links.access_token(session), "roomId": other_room, "peerId": session.invitation.peer_id}),
        content_type="application/json", HTTP_AUTHORIZATION=HEADER)

    assert response.status_code == 404


def test_a_second_join_with_the_same_link_answers_409_once_and_refuses_the_old_token(account, meeting):
    guest = InvitationFactory(meeting=meeting)
    first = joined(guest)
    check(account, first)

    second = joined(guest)

    assert check(account, second).status_code == 409  # admitted; the provider ends the first connection
    assert check(account, second).status_code == 200  # its reconnects are plain admissions
    assert check(account, first).status_code == 403


def test_an_ended_meeting_answers_423(account, meeting):
    session = joined(InvitationFactory(meeting=meeting))
    scheduling.occurrence_end(occurrence=session.occurrence)

    assert check(account, session).status_code == 423


def test_a_sitting_moved_later_answers_425(account, meeting):
    session = joined(InvitationFactory(meeting=meeting))
    occurrence = session.occurrence
    later = timezone.now() + timedelta(days=2)
    scheduling.occurrence_update(occurrence=occurrence, start=later, end=later + timedelta(hours=1),
                                 title=meeting.title)

    assert check(account, session).status_code == 425


def test_callers_without_the_registered_header_are_refused_and_nothing_changes(account, meeting):
    session = joined(InvitationFactory(meeting=meeting))

    assert check(account, session, header="Basic wrong").status_code == 403
    assert check(account, session, header="").status_code == 403
    assert not JoinSession.objects.get(pk=session.pk).provider_admitted
    assert Invitation.objects.get(pk=session.invitation.pk).first_joined_at is not None


def test_another_organizations_account_cannot_vouch_for_this_meeting(account, meeting, charlie):
    session = joined(InvitationFactory(meeting=meeting))
    foreign = ProviderAccountFactory(organization=charlie.organization, access_secret=HEADER, join_mode="access_check")

    assert check(foreign, session).status_code == 404


def test_a_jwt_mode_account_does_not_use_access_checks(meeting, account):
    # The seed: with the JWT option on, the &accessToken attribute cannot be used.
    session = joined(InvitationFactory(meeting=meeting))
    ProviderAccount.objects.filter(pk=account.pk).update(join_mode="jwt")

    response = check(account, session)

    assert response.status_code == 403
    assert response.json() == {"error": "this account does not use access checks: its people join with a "
                                        "signed token"}
    assert not JoinSession.objects.get(pk=session.pk).provider_admitted
    assert check(account, session, header="Basic wrong").json() == {"error": "unauthorized caller"}


@pytest.mark.parametrize("peer", ["", None])
def test_an_empty_peer_id_answers_401(account, meeting, peer):
    session = joined(InvitationFactory(meeting=meeting))

    response = check(account, body={"accessToken": links.access_token(session), "roomId": room_id(meeting),
                                    "peerId": peer}, meeting=meeting)

    assert response.status_code == 401
    assert not JoinSession.objects.get(pk=session.pk).provider_admitted


def test_after_the_sittings_end_and_grace_it_answers_423_before_beat_closes_it(account, meeting, settings):
    settings.JOIN_GRACE_MINUTES_AFTER = 30
    session = joined(InvitationFactory(meeting=meeting))
    occurrence = session.occurrence
    ends = occurrence.end + timedelta(minutes=30)

    def at(moment):
        return access_check(account=account, access_token=links.access_token(session), room_id=room_id(meeting),
                            peer_id=session.invitation.peer_id, now=moment)

    assert at(ends).status == 200
    assert (at(ends + timedelta(seconds=1)).status, at(ends + timedelta(seconds=1)).reason) == (
        423, "the meeting has ended")
    occurrence.refresh_from_db()
    assert occurrence.status == "live"  # nobody closed it: the access check looks at the time


def test_after_the_invitations_validity_it_answers_423(account, meeting):
    invitation = InvitationFactory(meeting=meeting)
    session = joined(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(valid_until=timezone.now() - timedelta(seconds=1))

    assert check(account, session).status_code == 423

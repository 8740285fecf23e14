"""Personal join links: every check in order, with its own page and status, and a bounded query count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings import links
from meetings.models import Invitation, JoinSession, Occurrence
from meetings.services import invitations, scheduling

from ..factories import InvitationFactory, MeetingFactory


@pytest.fixture
def meeting(db):
    return MeetingFactory(title="Quarterly review")


def join(client, invitation_or_token, **data):
    token = getattr(invitation_or_token, "token", invitation_or_token)
    return client.post(f"/j/{token}", data)


def assert_denied(response, status, code):
    assert response.status_code == status
    assert f'data-denial="{code}"'.encode() in response.content


def test_pre_join_page_shows_the_meeting_the_person_and_their_role(client, meeting):
    ana = InvitationFactory(meeting=meeting, display_name="Ana Lima", role="interpreter", language="pt")

    page = client.get(f"/j/{ana.token}")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Quarterly review" in html and 'id="join-name">Ana Lima<' in html
    assert "Interpreter</strong> (Portuguese)" in html
    assert 'id="preview"' in html and 'id="join-button"' in html


def test_opening_a_link_changes_nothing(client, meeting):
    ana = InvitationFactory(meeting=meeting)

    for _ in range(3):
        client.get(f"/j/{ana.token}")

    ana.refresh_from_db()
    assert (ana.first_opened_at, ana.first_joined_at) == (None, None)
    assert not JoinSession.objects.exists()
    assert meeting.occurrences.get().status == "scheduled"


def test_the_pre_join_page_script_reports_a_real_opening(client, meeting):
    ana = InvitationFactory(meeting=meeting)

    assert client.post(f"/j/{ana.token}/opened").status_code == 204

    ana.refresh_from_db()
    assert ana.first_opened_at is not None


def test_joining_starts_a_session_and_opens_the_room(client, meeting):
    ana = InvitationFactory(meeting=meeting, display_name="Ana")

    response = join(client, ana)

    assert response.status_code == 302 and response["Location"] == f"/j/{ana.token}/room/"
    session = JoinSession.objects.get(invitation=ana)
    assert session.ended_at is None and session.admitted
    assert meeting.occurrences.get().status == Occurrence.Status.LIVE
    room = client.get(response["Location"])
    assert room.status_code == 200 and b"Ana" in room.content


def test_a_tampered_link_answers_403(client, meeting):
    ana = InvitationFactory(meeting=meeting)

    assert_denied(client.get(f"/j/{ana.token[:-3]}"), 403, "tampered")
    assert_denied(client.get(f"/j/{ana.token}!x"), 403, "tampered")


def test_an_unknown_link_answers_404(client, db):
    assert_denied(client.get(f"/j/{links.derive_token('nothing')}"), 404, "unknown")


def test_a_revoked_link_answers_401_and_a_reissued_one_works(client, meeting):
    ana = InvitationFactory(meeting=meeting)
    invitations.invitation_revoke(invitation=ana)
    assert_denied(client.get(f"/j/{ana.token}"), 401, "revoked")
    assert_denied(join(client, ana), 401, "revoked")

    new_token = invitations.invitation_reissue(invitation=ana, send_email=False)

    assert new_token != ana.token
    assert_denied(client.get(f"/j/{ana.token}"), 401, "revoked")
    assert client.get(f"/j/{new_token}").status_code == 200


def test_someone_removed_by_a_moderator_answers_401(client, meeting):
    ana = InvitationFactory(meeting=meeting)
    Invitation.objects.filter(pk=ana.pk).update(removed_at=timezone.now())

    assert_denied(join(client, ana), 401, "removed")


def test_too_early_answers_425_with_the_start_in_the_persons_timezone(client, db):
    later = MeetingFactory(start=timezone.now().replace(microsecond=0) + timedelta(days=2))
    ana = InvitationFactory(meeting=later)
    Invitation.objects.filter(pk=ana.pk).update(timezone="America/New_York")

    response = client.get(f"/j/{ana.token}")

    assert_denied(response, 425, "too_early")
    start_ny = timezone.localtime(later.start, timezone=__import__("zoneinfo").ZoneInfo("America/New_York"))
    assert start_ny.strftime("%H:%M").encode() in response.content
    assert b"(America/New_York)" in response.content
    assert_denied(join(client, ana), 425, "too_early")
    assert not JoinSession.objects.exists()


def test_a_cancelled_meeting_answers_423(client, meeting):
    ana = InvitationFactory(meeting=meeting)
    scheduling.meeting_cancel(meeting=meeting)

    assert_denied(join(client, ana), 423, "cancelled")


def test_an_ended_meeting_answers_423(client, meeting):
    ana = InvitationFactory(meeting=meeting)
    scheduling.occurrence_end(occurrence=meeting.occurrences.get())

    assert_denied(client.get(f"/j/{ana.token}"), 423, "ended")


def test_a_link_past_its_validity_answers_423(client, meeting):
    ana = InvitationFactory(meeting=meeting)
    Invitation.objects.filter(pk=ana.pk).update(valid_until=timezone.now() - timedelta(minutes=1))

    assert_denied(join(client, ana), 423, "expired")


def test_a_full_meeting_answers_423_but_a_rejoin_still_fits(meeting):
    meeting.max_broadcasters = 2
    meeting.save()
    first, second, third = (InvitationFactory(meeting=meeting) for _ in range(3))
    browsers = [Client(), Client(), Client()]
    join(browsers[0], first)
    join(browsers[1], second)

    assert_denied(join(browsers[2], third), 423, "full")
    assert join(browsers[1], second).status_code == 302  # the same person again replaces, not adds


def test_webinar_viewers_count_against_max_watchers_only(db):
    webinar = MeetingFactory(kind="webinar", max_broadcasters=1, max_watchers=1)
    speaker = InvitationFactory(meeting=webinar, role="speaker")
    viewer, second_viewer = InvitationFactory(meeting=webinar, role="viewer"), InvitationFactory(meeting=webinar,
                                                                                                 role="viewer")
    assert join(Client(), speaker).status_code == 302
    assert join(Client(), viewer).status_code == 302
    assert_denied(join(Client(), second_viewer), 423, "full")


def test_the_waiting_room_holds_everyone_but_moderators(meeting):
    meeting.waiting_room = True
    meeting.save()
    guest, moderator = InvitationFactory(meeting=meeting), InvitationFactory(meeting=meeting, role="moderator")

    join(Client(), guest)
    join(Client(), moderator)

    assert JoinSession.objects.get(invitation=guest).admitted is False
    assert JoinSession.objects.get(invitation=moderator).admitted is True


def test_a_second_join_takes_over_and_the_first_page_says_why(meeting):
    ana = InvitationFactory(meeting=meeting)
    laptop, phone = Client(), Client()
    join(laptop, ana)

    join(phone, ana)

    sessions = JoinSession.objects.filter(invitation=ana).order_by("started_at")
    assert [s.end_reason for s in sessions] == ["replaced", ""]
    assert laptop.get(f"/j/{ana.token}/room/state").json()["reason"] == "replaced"
    old_room = laptop.get(f"/j/{ana.token}/room/")
    assert old_room.status_code == 409 and b"joined from somewhere else" in old_room.content
    assert phone.get(f"/j/{ana.token}/room/").status_code == 200


def test_the_room_cannot_be_entered_without_joining(client, meeting):
    ana = InvitationFactory(meeting=meeting)

    assert client.get(f"/j/{ana.token}/room/")["Location"] == f"/j/{ana.token}"


def test_leaving_ends_the_session(client, meeting):
    ana = InvitationFactory(meeting=meeting)
    join(client, ana)

    response = client.post(f"/j/{ana.token}/leave")

    assert response.status_code == 200 and b"You left the meeting" in response.content
    assert JoinSession.objects.get(invitation=ana).end_reason == "left"


def test_an_open_viewer_link_admits_named_guests_up_to_its_capacity(meeting):
    meeting.kind = "webinar"
    meeting.save()
    token = invitations.open_link_create(meeting=meeting, capacity=1)

    first = join(Client(), token, display_name="Visitor One")
    second = join(Client(), token, display_name="Visitor Two")

    assert first.status_code == 302
    guest = Invitation.objects.get(source="open_link")
    assert (guest.display_name, guest.role) == ("Visitor One", "viewer")
    assert_denied(second, 423, "full")


def test_join_attempts_are_rate_limited_per_link(client, meeting, settings):
    settings.JOIN_RATE_PER_LINK = 3
    ana = InvitationFactory(meeting=meeting)

    statuses = [join(Client(), ana).status_code for _ in range(4)]

    assert statuses == [302, 302, 302, 429]


def statements(captured) -> list[str]:
    """The SQL a request ran, less the transaction's own BEGIN/COMMIT (or SAVEPOINT inside a test)."""
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
    return [q["sql"] for q in captured.captured_queries if not q["sql"].upper().startswith(control)]


def test_pre_join_page_and_join_cost_few_queries_with_500_invitees(meeting, django_assert_max_num_queries):
    for n in range(499):
        InvitationFactory(meeting=meeting, email=f"crowd{n}@example.net")
    ana = InvitationFactory(meeting=meeting)
    browser = Client()
    # Steady state: someone joined before, so the organization's webhook subscriptions are cached
    # (a cold cache costs the first join after it one query more, at most once a minute).
    assert join(Client(), InvitationFactory(meeting=meeting, email="first@example.net")).status_code == 302

    with django_assert_max_num_queries(2):
        assert browser.get(f"/j/{ana.token}").status_code == 200
    with CaptureQueriesContext(connection) as first:
        assert join(browser, ana).status_code == 302
    with CaptureQueriesContext(connection) as again:
        assert join(Client(), ana).status_code == 302  # taking over an earlier session
    assert len(statements(first)) <= 6, "\n".join(q[:150] for q in statements(first))
    assert len(statements(again)) <= 6, statements(again)

"""Hosts invite people one by one, from the organization, by pasted list or CSV; manage their links."""

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from meetings.models import Invitation, JoinSession
from meetings.services import invitations
from portal import outbox
from portal.models import PendingTask

from ..factories import InvitationFactory, MeetingFactory, MembershipFactory, UserFactory


@pytest.fixture
def meeting(alice):
    return MeetingFactory(organization=alice.organization, owner=alice.user, title="Board meeting")


def url(meeting, path=""):
    return f"/o/{meeting.organization.slug}/meetings/{meeting.code}/{path}"


def csv_upload(text):
    return SimpleUploadedFile("people.csv", text.encode(), content_type="text/csv")


def test_inviting_one_person_emails_their_personal_link_and_shows_it_once(as_alice, meeting,
                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_alice.post(url(meeting, "invite/"), {"email": "Zoe@Example.net", "display_name": "Zoe",
                                                           "role": "moderator", "language": ""})

    zoe = Invitation.objects.get(email="zoe@example.net")
    assert (zoe.role, zoe.email_status) == ("moderator", "sent")
    [message] = mail.outbox
    link = f"/j/{invitations.links.invitation_token(zoe)}"
    assert link in message.body and message.subject == "Invitation: Board meeting"
    assert any(a[0] == "invite.ics" for a in message.attachments)
    page = as_alice.get(response["Location"])
    assert link.encode() in page.content
    assert link.encode() not in as_alice.get(url(meeting)).content  # shown once only


@pytest.mark.parametrize("data, message", [
    ({"email": "x@example.net", "role": "interpreter", "language": ""},
     "Choose the language this interpreter speaks into."),
    ({"email": "x@example.net", "role": "speaker", "language": ""},
     "Select a valid choice. speaker is not one of the available choices."),
])
def test_roles_must_fit_the_meeting(as_alice, meeting, data, message):
    page = as_alice.get(url(meeting)).content.decode()
    invite_form = page.split('action="' + url(meeting, "invite/"))[1].split("</form>")[0]
    assert '<option value="speaker"' not in invite_form and '<option value="viewer"' not in invite_form
    assert '<option value="de">German</option>' in invite_form  # languages by name, not ISO code

    response = as_alice.post(url(meeting, "invite/"), data)

    assert message in response.content.decode()
    assert not Invitation.objects.filter(email="x@example.net").exists()


def test_a_csv_with_a_bad_row_imports_nobody_and_reports_every_row(as_alice, meeting):
    InvitationFactory(meeting=meeting, email="taken@example.net")
    text = ("email,name,role,language\n"
            "ok@example.net,Okay Person,participant,\n"
            "not-an-address,Broken,participant,\n"
            "int@example.net,Interpreter,interpreter,xx\n"
            "taken@example.net,Taken,participant,\n"
            "OK@example.net,Duplicate,participant,\n")

    response = as_alice.post(url(meeting, "invite/csv/"), {"file": csv_upload(text)})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Nobody was invited" in html
    assert "accepted" in html and "not a valid email address" in html and "needs the language" in html
    assert "already invited" in html and "also on line 2" in html
    assert list(Invitation.objects.filter(meeting=meeting).values_list("email", flat=True)) == ["taken@example.net"]


def test_a_good_csv_invites_everyone_with_their_roles(as_alice, meeting, django_capture_on_commit_callbacks):
    text = "Email,Name,Role,Language\nana@example.net,Ana,interpreter,pt\nbo@example.net,Bo,moderator,\n\n"

    with django_capture_on_commit_callbacks(execute=True):
        as_alice.post(url(meeting, "invite/csv/"), {"file": csv_upload(text)})

    ana, bo = Invitation.objects.get(email="ana@example.net"), Invitation.objects.get(email="bo@example.net")
    assert (ana.role, ana.language, ana.display_name) == ("interpreter", "pt", "Ana")
    assert bo.role == "moderator"
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.net", "bo@example.net"]


def test_a_long_csv_costs_no_more_queries_than_a_short_one_and_every_link_works(as_alice, meeting, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def import_people(prefix, count):
        text = "Email,Name\n" + "".join(f"{prefix}{n}@example.net,Person {n}\n" for n in range(count))
        with CaptureQueriesContext(connection) as queries:
            assert as_alice.post(url(meeting, "invite/csv/"), {"file": csv_upload(text)}).status_code == 302
        return len(queries)

    import_people("warm", 3)  # the first request of a session reads more than the import
    short, long = import_people("few", 10), import_people("many", 600)

    assert long <= short + 2, (short, long)  # 600 rows: one more batch of invitations and of links, at most
    assert Invitation.objects.filter(meeting=meeting, email__startswith="many").count() == 600
    assert PendingTask.objects.filter(task__endswith="send_meeting_email").count() == 613
    person = Invitation.objects.get(email="many599@example.net")
    assert person.email_status == "queued" and person.display_name == "Person 599"
    from meetings import links
    assert client.get(f"/j/{links.invitation_token(person)}").status_code == 200


def test_a_csv_without_a_header_is_refused_clearly(as_alice, meeting):
    response = as_alice.post(url(meeting, "invite/csv/"), {"file": csv_upload("a@example.net,A\n")})

    assert b"The first row must name the columns" in response.content


def test_a_pasted_list_invites_everyone_with_one_role(as_alice, meeting):
    as_alice.post(url(meeting, "invite/paste/"), {
        "addresses": "Cleo <cleo@example.net>, dan@example.net\nemma@example.net", "role": "participant"})

    invited = dict(Invitation.objects.filter(meeting=meeting, role="participant").values_list("email", "display_name"))
    assert invited == {"cleo@example.net": "Cleo", "dan@example.net": "dan", "emma@example.net": "emma"}


def test_members_are_invited_with_their_account(as_alice, meeting, bob):
    as_alice.post(url(meeting, "invite/members/"), {"members": [bob.user.pk], "role": "participant"})

    assert Invitation.objects.get(email="bob@acme.test").user == bob.user


def test_hosts_change_roles_until_the_meeting_ends(as_alice, meeting):
    guest = InvitationFactory(meeting=meeting)

    as_alice.post(url(meeting, f"invitations/{guest.code}/role/"), {"role": "interpreter", "language": "de"})
    guest.refresh_from_db()
    assert (guest.role, guest.language) == ("interpreter", "de")

    meeting.occurrences.update(status="ended")
    response = as_alice.post(url(meeting, f"invitations/{guest.code}/role/"), {"role": "moderator"}, follow=True)
    assert b"roles can no longer change" in response.content
    assert Invitation.objects.get(pk=guest.pk).role == "interpreter"


def test_withdrawing_a_link_asks_first(as_alice, meeting, client):
    guest = InvitationFactory(meeting=meeting)
    assert b"Withdraw the link" in as_alice.get(url(meeting, f"invitations/{guest.code}/revoke/")).content
    assert Invitation.objects.get(pk=guest.pk).revoked_at is None

    as_alice.post(url(meeting, f"invitations/{guest.code}/revoke/"))

    assert Invitation.objects.get(pk=guest.pk).revoked_at is not None


def test_a_new_link_replaces_the_old_one_and_is_emailed(as_alice, meeting, django_capture_on_commit_callbacks):
    guest = InvitationFactory(meeting=meeting)
    old = guest.token

    with django_capture_on_commit_callbacks(execute=True):
        as_alice.post(url(meeting, f"invitations/{guest.code}/reissue/"))

    guest.refresh_from_db()
    new = invitations.links.invitation_token(guest)
    assert new != old
    assert f"/j/{new}" in mail.outbox[-1].body
    assert as_alice.get(f"/j/{old}").status_code == 401
    assert as_alice.get(f"/j/{new}").status_code == 200
    assert Invitation.objects.get(pk=guest.pk).peer_id == guest.peer_id  # same person, same peer


def test_a_failed_send_is_retried_then_shown_on_the_invitees_row(as_alice, meeting, settings,
                                                                django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.meetings.broken_mail.RefusingBackend"

    with django_capture_on_commit_callbacks(execute=True):
        as_alice.post(url(meeting, "invite/"), {"email": "nomail@example.net", "role": "participant"})
    invitation = Invitation.objects.get(email="nomail@example.net")
    assert invitation.email_status == "queued" and "Attempt 1" in invitation.email_error
    assert PendingTask.objects.get().due_at > timezone.now()  # the next try waits out its backoff

    for _ in range(5):  # each backoff has passed: beat's sweep sends it again
        PendingTask.objects.filter(failed_at__isnull=True).update(due_at=timezone.now())
        outbox.sweep()

    invitation.refresh_from_db()
    assert invitation.email_status == "failed"
    assert "Gave up after attempt 6" in invitation.email_error and "mail server said no" in invitation.email_error
    assert b"failed: Gave up after attempt 6" in as_alice.get(url(meeting)).content


def test_a_webinar_gets_one_open_viewer_link_at_a_time(as_alice, alice):
    webinar = MeetingFactory(organization=alice.organization, owner=alice.user, kind="webinar")

    as_alice.post(url(webinar, "open-link/"), {"capacity": 15})
    first = as_alice.get(url(webinar)).content.decode()
    as_alice.post(url(webinar, "open-link/"), {"capacity": 10})

    token = first.split('aria-label="Open viewer link"')[0].rsplit("/j/", 1)[1].split('"')[0]
    assert as_alice.get(f"/j/{token}").status_code == 401  # replaced
    assert webinar.links.filter(invitation__isnull=True, revoked_at__isnull=True).get().capacity == 10


def test_the_meeting_page_of_1000_invitees_is_paginated_and_cheap(as_alice, meeting, django_assert_max_num_queries):
    Invitation.objects.bulk_create([
        Invitation(organization=meeting.organization, meeting=meeting, email=f"p{n}@example.net",
                   display_name=f"Person {n:04d}", role="participant", timezone="UTC") for n in range(1000)])

    sitting = meeting.occurrences.first()
    JoinSession.objects.bulk_create([
        JoinSession(organization=meeting.organization, invitation=invitation, occurrence=sitting,
                    key_hash=uuid.uuid4().hex, started_at=sitting.start, ended_at=sitting.start + timedelta(minutes=5))
        for invitation in meeting.invitations.all()[:300]])

    as_alice.get(url(meeting))  # a fresh login writes the session once (current organization); not counted
    with django_assert_max_num_queries(12):  # 10, plus the attendance report's stays and their people
        page = as_alice.get(url(meeting) + "?page=2")

    assert page.status_code == 200
    assert page.content.count(b"data-invitee=") == 50
    assert page.content.split(b'id="attendance-table"')[1].split(b"</table>")[0].count(b"<tr>") == 301
    assert b"Page 2 of 20" in page.content


def test_a_member_admin_in_another_organization_sees_nothing(client, meeting, charlie):
    client.force_login(charlie.user)

    assert client.get(url(meeting)).status_code == 404


def test_co_hosts_manage_the_meeting_but_other_hosts_do_not(client, meeting, acme):
    co_host = MembershipFactory(organization=acme, role="host", user=UserFactory()).user
    outsider_host = MembershipFactory(organization=acme, role="host", user=UserFactory()).user
    meeting.co_hosts.add(co_host)

    client.force_login(co_host)
    assert client.get(url(meeting)).status_code == 200
    client.force_login(outsider_host)
    assert client.get(url(meeting)).status_code == 404

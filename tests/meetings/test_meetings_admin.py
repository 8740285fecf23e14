"""Operators find meetings and invitations in Django admin and act on them."""

import pytest
from django.core import mail

from meetings.models import Invitation

from ..factories import InvitationFactory, MeetingFactory, MembershipFactory, UserFactory


@pytest.fixture
def operator(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_meetings_are_searchable_by_title_and_invitee_and_filterable(operator, acme, charlie):
    budget = MeetingFactory(organization=acme, title="Budget 2027")
    MeetingFactory(organization=charlie.organization, title="Offsite")
    InvitationFactory(meeting=budget, email="finance@example.net")

    by_title = operator.get("/admin/meetings/meeting/?q=budget").content
    by_email = operator.get("/admin/meetings/meeting/?q=finance@example.net").content
    by_org = operator.get(f"/admin/meetings/meeting/?organization__id__exact={charlie.organization.pk}").content
    by_status = operator.get("/admin/meetings/meeting/?status__exact=cancelled").content

    assert b"Budget 2027" in by_title and b"Offsite" not in by_title
    assert b"Budget 2027" in by_email
    assert b"Offsite" in by_org and b"Budget 2027" not in by_org
    assert b"Budget 2027" not in by_status


def test_admin_actions_withdraw_links_and_resend_invitations(operator, acme, django_capture_on_commit_callbacks):
    meeting = MeetingFactory(organization=acme)
    first, second = InvitationFactory(meeting=meeting), InvitationFactory(meeting=meeting)

    with django_capture_on_commit_callbacks(execute=True):
        operator.post("/admin/meetings/invitation/", {"action": "resend_invitations", "_selected_action": [first.pk]})
    operator.post("/admin/meetings/invitation/", {"action": "revoke_links", "_selected_action": [second.pk]})

    assert [m.to for m in mail.outbox] == [[first.email]]
    assert Invitation.objects.get(pk=second.pk).revoked_at is not None
    assert operator.get(f"/j/{second.token}").status_code == 401


def test_staff_of_one_organization_do_not_see_anothers_meetings(client, acme, charlie):
    staff = MembershipFactory(organization=acme, role="admin", user=UserFactory(is_staff=True)).user
    MeetingFactory(organization=charlie.organization, title="Globex secret plans")
    MeetingFactory(organization=acme, title="Acme roadmap")
    client.force_login(staff)

    listing = client.get("/admin/meetings/meeting/").content

    assert b"Acme roadmap" in listing and b"Globex secret plans" not in listing


def test_every_meetings_admin_page_renders(operator, acme):
    meeting = MeetingFactory(organization=acme)
    invitation = InvitationFactory(meeting=meeting)

    pages = ["/admin/meetings/room/", f"/admin/meetings/room/{meeting.room.pk}/change/",
             "/admin/meetings/meeting/", f"/admin/meetings/meeting/{meeting.pk}/change/",
             "/admin/meetings/invitation/", f"/admin/meetings/invitation/{invitation.pk}/change/",
             "/admin/meetings/meeting/add/", "/admin/meetings/room/add/"]

    assert {page: operator.get(page).status_code for page in pages} == {page: 200 for page in pages}
    assert invitation.peer_id.encode() in operator.get(f"/admin/meetings/invitation/{invitation.pk}/change/").content

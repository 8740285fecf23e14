"""The host's meeting page: ending a sitting (with a confirmation, and undoable while its time lasts),
actions hidden once nothing is left to join, and an open viewer link that promises only what the
provider holds."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from meetings.models import JoinLink, Occurrence

from ..factories import InvitationFactory, MeetingFactory, RoomFactory


def url(meeting, path=""):
    return f"/o/{meeting.organization.slug}/meetings/{meeting.code}/{path}"


@pytest.fixture
def meeting(alice):
    """A call whose only sitting started five minutes ago and runs for another 55."""
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    return MeetingFactory(organization=alice.organization, owner=alice.user, title="Stand-up", start=start,
                          end=start + timedelta(hours=1))


def test_ending_asks_first_and_says_it_can_be_undone(as_alice, meeting):
    sitting = meeting.occurrences.get()
    Occurrence.objects.filter(pk=sitting.pk).update(status="live")

    confirm = as_alice.get(url(meeting, f"occurrences/{sitting.code}/end/")).content.decode()

    assert "End this sitting for everyone?" in confirm and "reopen it" in confirm
    assert Occurrence.objects.get(pk=sitting.pk).status == "live"  # a GET ends nothing


def test_a_sitting_ended_by_mistake_is_reopened_and_the_links_work_again(as_alice, meeting):
    sitting = meeting.occurrences.get()
    guest = InvitationFactory(meeting=meeting, email="guest@example.net")

    ended = as_alice.post(url(meeting, f"occurrences/{sitting.code}/end/"), follow=True).content.decode()
    assert Occurrence.objects.get(pk=sitting.pk).status == "ended"
    assert "You can reopen it until" in ended
    assert ">Edit<" not in ended and 'id="invite"' not in ended
    assert "Every sitting of this meeting has ended" in ended and ">Reopen</button>" in ended
    assert Client().get(f"/j/{guest.token}").status_code == 423  # "This meeting has ended"

    reopened = as_alice.post(url(meeting, f"occurrences/{sitting.code}/reopen/"), follow=True).content.decode()

    assert Occurrence.objects.get(pk=sitting.pk).status == "scheduled"
    assert "The sitting is open again" in reopened and 'id="invite"' in reopened and ">Edit<" in reopened
    assert Client().get(f"/j/{guest.token}").status_code == 200


def test_a_sitting_whose_time_is_over_stays_ended(as_alice, meeting):
    sitting = meeting.occurrences.get()
    Occurrence.objects.filter(pk=sitting.pk).update(status="ended", end=timezone.now() - timedelta(minutes=1))

    page = as_alice.post(url(meeting, f"occurrences/{sitting.code}/reopen/"), follow=True).content.decode()

    assert Occurrence.objects.get(pk=sitting.pk).status == "ended"
    assert "Its time is over" in page and ">Reopen</button>" not in page


def test_only_the_meetings_hosts_reopen(meeting, charlie, alice):
    sitting = meeting.occurrences.get()
    Occurrence.objects.filter(pk=sitting.pk).update(status="ended")
    outsider = Client()
    outsider.force_login(charlie.user)  # an admin of another organization

    assert outsider.post(url(meeting, f"occurrences/{sitting.code}/reopen/")).status_code == 404
    assert Client().post(url(meeting, f"occurrences/{sitting.code}/reopen/")).status_code == 302  # to sign-in
    assert Occurrence.objects.get(pk=sitting.pk).status == "ended"


@pytest.fixture
def webinar(alice):
    return MeetingFactory(organization=alice.organization, owner=alice.user, title="Town hall", kind="webinar",
                          max_watchers=0)


def test_the_open_link_promises_no_more_viewers_than_the_built_in_provider_holds(as_alice, webinar):
    page = as_alice.get(url(webinar)).content.decode()
    assert 'max="20"' in page and "At most 20" in page

    refused = as_alice.post(url(webinar, "open-link/"), {"capacity": "300"}).content.decode()

    assert "Ensure this value is less than or equal to 20." in refused
    assert not JoinLink.objects.filter(meeting=webinar, invitation__isnull=True).exists()

    as_alice.post(url(webinar, "open-link/"), {"capacity": "20"})
    assert JoinLink.objects.get(meeting=webinar, invitation__isnull=True).capacity == 20


def test_the_webinars_own_viewer_limit_bounds_the_open_link_too(as_alice, webinar):
    webinar.max_watchers = 5
    webinar.save(update_fields=["max_watchers"])

    refused = as_alice.post(url(webinar, "open-link/"), {"capacity": "6"}).content.decode()

    assert "less than or equal to 5" in refused
    assert not JoinLink.objects.filter(meeting=webinar, invitation__isnull=True).exists()


def test_the_new_open_link_has_a_copy_button(as_alice, webinar):
    page = as_alice.post(url(webinar, "open-link/"), {"capacity": "10"}, follow=True).content.decode()

    assert 'id="open-link-url"' in page and 'data-copy="open-link-url"' in page


def test_a_calls_role_menus_offer_only_a_calls_roles(as_alice, meeting):
    InvitationFactory(meeting=meeting, email="guest@example.net")
    page = as_alice.get(url(meeting)).content.decode()
    invitees = page.split('id="invitees"')[1]

    assert '<option value="participant"' in invitees and '<option value="speaker"' not in invitees
    assert '<option value="viewer"' not in invitees


def test_rooms_are_listed_with_their_providers_name_in_words(as_alice, alice):
    RoomFactory(organization=alice.organization, owner=alice.user, name="Studio", provider="builtin")

    page = as_alice.get(f"/o/{alice.organization.slug}/rooms/").content.decode()

    assert "Built-in (peer-to-peer)" in page and ">builtin<" not in page

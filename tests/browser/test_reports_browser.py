"""An organization admin syncs a Gcore meeting, reads and exports its attendance, and sees the
organization's usage per month, in Chromium."""

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from meetings.models import JoinSession, Presence, Recording
from meetings.providers import get_provider
from meetings.providers.gcore.provider import room_id

from ..factories import (
    GcoreMeetingFactory,
    InvitationFactory,
    MeetingFactory,
    MembershipFactory,
    ProviderAccountFactory,
    UserFactory,
)
from .conftest import assert_accessible, sign_in_with_password

pytestmark = pytest.mark.browser
TOKEN = "browser-stats-token"


@pytest.fixture
def admin(alice):
    alice.user.set_password("alice's passphrase")
    alice.user.save()
    return alice.user


def stat(peer, start, begin, end):
    return {"person_id": peer, "join_time": int(start.timestamp()) + begin * 60,
            "leave_time": int(start.timestamp()) + end * 60, "duration": (end - begin) * 60}


@pytest.fixture
def history(acme, admin, gcore_api, settings):
    """A Gcore meeting two hours ago that the provider has statistics of, and earlier meetings of
    the last months (a built-in one, and a Gcore one already synced) for the usage chart."""
    settings.GCORE_API_BASE_URL = gcore_api.url
    gcore_api.reset(TOKEN)
    org = acme
    account = ProviderAccountFactory(organization=org, api_token=TOKEN)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    review = GcoreMeetingFactory(organization=org, provider_account=account, owner=admin, title="Board review",
                                 start=start, end=start + timedelta(hours=1))
    people = [InvitationFactory(meeting=review, display_name=name, role=role, email=f"{name.split()[0].lower()}@x.test")
              for name, role in (("Ada Lovelace", "moderator"), ("Grace Hopper", "participant"),
                                 ("Alan Turing", "participant"))]
    gcore_api.set(peers={room_id(review): [
        stat(people[0].peer_id, start, 0, 60), stat(people[1].peer_id, start, 5, 25),
        stat(people[1].peer_id, start, 35, 58), stat(people[2].peer_id, start, 10, 40)]})
    for months_ago, minutes in ((1, 300), (2, 140), (4, 520)):
        earlier = start - timedelta(days=31 * months_ago)
        past = MeetingFactory(organization=org, owner=admin, start=earlier, end=earlier + timedelta(hours=2))
        sitting = past.occurrences.get()
        JoinSession.objects.bulk_create([
            JoinSession(organization=org, invitation=InvitationFactory(meeting=past), occurrence=sitting,
                        key_hash=uuid.uuid4().hex, started_at=earlier,
                        ended_at=earlier + timedelta(minutes=minutes // 4))
            for _ in range(4)])
        Recording.objects.create(organization=org, meeting=past, status="ready", duration_seconds=minutes * 30,
                                 started_at=earlier)
    hosted = GcoreMeetingFactory(organization=org, provider_account=account, owner=admin,
                                 start=start - timedelta(days=93), end=start - timedelta(days=93, hours=-1))
    Presence.objects.create(organization=org, meeting=hosted, peer_id="p", source="statistics",
                            joined_at=hosted.start, left_at=hosted.start + timedelta(minutes=45))
    return review



def test_an_admin_syncs_reads_and_exports_attendance_and_sees_monthly_usage(page, live_server, admin, history,
                                                                            screenshot):
    sign_in_with_password(page, live_server.url, admin.email, "alice's passphrase")
    page.goto(f"{live_server.url}/o/acme/meetings/{history.code}/")
    assert page.locator("#sync-state").inner_text().startswith("Not synced yet")

    page.get_by_role("button", name="Sync now").click()
    page.wait_for_selector("#attendance-table")

    rows = [[cell.strip() for cell in row.locator("td").all_inner_texts()]
            for row in page.locator("#attendance-table tbody tr").all()]
    assert [(row[0], row[1], row[2], row[5]) for row in rows] == [
        ("Ada Lovelace ada@x.test", "Moderator", "1", "60"), ("Grace Hopper grace@x.test", "Participant", "2", "43"),
        ("Alan Turing alan@x.test", "Participant", "1", "30")]
    assert page.locator("#sync-state").inner_text().startswith("Last synced with Gcore Meet")
    page.locator("#attendance").scroll_into_view_if_needed()
    screenshot("attendance-report")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [row[0] for row in exported] == ["Person", "Ada Lovelace", "Grace Hopper", "Alan Turing"]

    page.goto(f"{live_server.url}/o/acme/")
    page.get_by_role("link", name="Usage").click()
    page.wait_for_selector("#usage-chart")
    bars = page.locator("#usage-chart rect")
    assert bars.count() == 12
    heights = [float(bars.nth(i).get_attribute("height")) for i in range(12)]
    assert heights[-1] > 0 and max(heights) == 110  # this month has attendance; the busiest fills the chart
    assert sum(1 for h in heights if h > 0) == 5  # this month, three built-in months, one earlier Gcore month
    this_month = page.locator("#usage-table tbody tr").first.locator("td").all_inner_texts()
    assert int(this_month[2]) == 133  # 60 + 43 + 30 participant minutes
    assert this_month[1] == "1"  # the Board review; nobody met in the other sittings of this month
    providers = page.locator("#usage-providers tbody tr td:first-child").all_inner_texts()
    assert sorted(providers) == sorted([get_provider("builtin").name, get_provider("gcore").name])
    assert_accessible(page, "the usage page")
    screenshot("usage-chart")


def test_a_host_who_is_not_an_admin_sees_no_usage_tab(page, live_server, acme):
    host = MembershipFactory(organization=acme, role="host",
                             user=UserFactory(email="hal@acme.test", password="hal's passphrase")).user
    sign_in_with_password(page, live_server.url, host.email, "hal's passphrase")

    assert page.get_by_role("link", name="Usage").count() == 0
    assert page.goto(f"{live_server.url}/o/acme/usage/").status == 403

"""The REST API as another system uses it: API keys, scopes, meetings, invitations and links,
members, idempotent retries, rate limits and the one error shape."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiKey, Membership, MembershipInvitation
from meetings.models import Meeting, Occurrence

from ..factories import InvitationFactory, MeetingFactory, MembershipFactory
from .conftest import client_with

pytestmark = pytest.mark.django_db


def later(hours=24, minutes=0):
    start = (timezone.now() + timedelta(hours=hours)).replace(microsecond=0)
    return start.isoformat(), (start + timedelta(minutes=minutes or 60)).isoformat()


def schedule(api, **extra):
    start, end = later()
    return api.post("/api/v1/meetings", {"title": "Course kick-off", "start": start, "end": end, **extra},
                    format="json")


# --- keys and who may call -------------------------------------------------------------------------

def test_an_admin_makes_a_key_that_is_shown_once_and_kept_only_as_a_hash(client, alice):
    client.force_login(alice.user)
    made = client.post(f"/o/{alice.organization.slug}/integrations/api-keys/",
                       {"name": "LMS sync", "scopes": ["read", "write"]}, follow=True)
    raw = made.context["new_key"]["key"]
    key = ApiKey.objects.get()

    assert raw.startswith(key.prefix + "_") and key.prefix in made.content.decode()
    assert raw not in str(ApiKey.objects.values_list()) and key.scopes == ["read", "write"]
    assert raw not in client.get(f"/o/{alice.organization.slug}/integrations/api-keys/").content.decode()
    assert client_with(raw).get("/api/v1/meetings").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_only_admins_reach_the_key_pages(client, bob, charlie):
    client.force_login(bob.user)
    assert client.get(f"/o/{bob.organization.slug}/integrations/api-keys/").status_code == 403
    client.force_login(charlie.user)
    assert client.get(f"/o/{bob.organization.slug}/integrations/api-keys/").status_code == 404


@pytest.mark.parametrize("header", ["", "Bearer", "Basic abc", "Bearer mpk_0000_nope", "Bearer " + "x" * 5000])
def test_calls_without_a_valid_key_answer_401_in_the_error_shape(header):
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    response = client.get("/api/v1/meetings")

    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json()["error"]) == {"code", "message"}


def test_revoked_expired_and_orphaned_keys_stop_working(client, alice, acme, make_key):
    revoked, expiring = make_key(), make_key(expires_at=timezone.now() + timedelta(minutes=5))
    ApiKey.objects.filter(prefix=revoked[:12]).update(revoked_at=timezone.now())
    ApiKey.objects.filter(prefix=expiring[:12]).update(expires_at=timezone.now())
    admin = MembershipFactory(organization=acme, role="admin")
    by_former_admin = make_key(created_by=admin.user)
    assert client_with(by_former_admin).get("/api/v1/meetings").status_code == 200
    admin.role = "host"
    admin.save()

    assert client_with(revoked).get("/api/v1/meetings").status_code == 401
    assert client_with(expiring).get("/api/v1/meetings").status_code == 401
    refused = client_with(by_former_admin).get("/api/v1/meetings")
    assert refused.status_code == 401 and "no longer an admin" in refused.json()["error"]["message"]


def test_revoking_from_the_page_asks_first_and_then_the_key_answers_401(client, alice, make_key):
    raw = make_key()
    key = ApiKey.objects.get()
    client.force_login(alice.user)
    url = f"/o/{alice.organization.slug}/integrations/api-keys/{key.code}/revoke/"

    assert "Revoke" in client.get(url).content.decode() and client_with(raw).get("/api/v1/rooms").status_code == 200
    client.post(url)
    assert client_with(raw).get("/api/v1/rooms").status_code == 401


def test_each_scope_opens_only_its_own_doors(make_key, acme):
    reader = client_with(make_key("read"))
    writer = client_with(make_key("read", "write"))
    meeting = MeetingFactory(organization=acme)
    person = InvitationFactory(meeting=meeting)

    refused = schedule(reader)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "missing_scope"
    assert reader.get("/api/v1/members").json()["error"]["code"] == "missing_scope"
    assert writer.post(f"/api/v1/invitations/{person.code}/link", {}, format="json").status_code == 403
    invited = writer.post(f"/api/v1/meetings/{meeting.code}/invitations",
                          {"invitations": [{"email": "no-link@example.net"}], "send_email": False}, format="json")
    assert invited.status_code == 200 and "link" not in invited.json()["results"][0]
    assert schedule(writer).status_code == 201


# --- meetings --------------------------------------------------------------------------------------

def test_scheduling_a_series_makes_its_sittings_and_names_the_caller_host(api, alice):
    created = schedule(api, timezone="Europe/Berlin",
                       recurrence={"frequency": "weekly", "weekdays": ["MO", "WE"], "count": 6},
                       settings={"kind": "webinar", "max_watchers": 20})
    body = created.json()

    assert created.status_code == 201, body
    assert body["occurrence_count"] == 6 and body["settings"]["kind"] == "webinar"
    assert body["owner"] == alice.user.email and body["start"].endswith("Z")
    meeting = Meeting.objects.get(code=body["code"])
    assert meeting.invitations.get().role == "host"
    sittings = api.get(f"/api/v1/meetings/{meeting.code}/occurrences").json()["results"]
    assert len(sittings) == 6 and all(s["status"] == "scheduled" for s in sittings)


@pytest.mark.parametrize("payload,field", [
    ({"start": "2031-01-01T10:00:00", "end": "2031-01-01T11:00:00+00:00"}, "start"),
    ({"end": "1999-01-01T00:00:00+00:00"}, "end"),
    ({"title": "two\nlines"}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"settings": {"provider": "nope"}}, "settings"),
    ({"recurrence": {"frequency": "weekly", "count": 3}}, "recurrence"),
])
def test_bad_meetings_are_refused_field_by_field_and_nothing_is_written(api, payload, field):
    start, end = later()
    response = api.post("/api/v1/meetings", {"title": "Fine", "start": start, "end": end, **payload}, format="json")
    error = response.json()["error"]

    assert response.status_code == 400 and error["code"] == "validation_error"
    assert field in error["fields"] or field in error["message"].lower(), error
    assert not Meeting.objects.exists()


def test_the_meeting_list_filters_and_pages_with_cursors(api, acme, alice):
    other_host = MembershipFactory(organization=acme, role="host").user
    soon = [MeetingFactory(organization=acme, owner=alice.user, start=timezone.now() + timedelta(days=day),
                           end=timezone.now() + timedelta(days=day, hours=1)) for day in (1, 2, 3, 4, 5)]
    theirs = MeetingFactory(organization=acme, owner=other_host, start=timezone.now() + timedelta(days=2),
                            end=timezone.now() + timedelta(days=2, hours=1))
    Meeting.objects.filter(pk=soon[4].pk).update(status="cancelled")

    seen, url = [], "/api/v1/meetings?limit=2"
    while url:
        page = api.get(url).json()
        seen += [m["code"] for m in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(m.code for m in [*soon, theirs]) and len(seen) == 6

    window = (f"starts_after={(timezone.now() + timedelta(days=1, hours=12)).isoformat()}"
              f"&starts_before={(timezone.now() + timedelta(days=3, hours=12)).isoformat()}").replace("+", "%2B")
    in_window = {m["code"] for m in api.get(f"/api/v1/meetings?{window}").json()["results"]}
    assert in_window == {soon[1].code, soon[2].code, theirs.code}
    assert [m["code"] for m in api.get("/api/v1/meetings?status=cancelled").json()["results"]] == [soon[4].code]
    assert [m["code"] for m in api.get(f"/api/v1/meetings?host={other_host.email}").json()["results"]] == [theirs.code]
    assert api.get("/api/v1/meetings?status=bogus").status_code == 400
    assert api.get("/api/v1/meetings?starts_after=tomorrow").status_code == 400


def test_changing_cancelling_and_ending_a_meeting(api, acme, alice):
    meeting = MeetingFactory(organization=acme, owner=alice.user)
    start = (meeting.start + timedelta(hours=2)).isoformat()
    end = (meeting.start + timedelta(hours=3)).isoformat()

    changed = api.patch(f"/api/v1/meetings/{meeting.code}", {"title": "Renamed", "start": start, "end": end},
                        format="json")
    assert changed.status_code == 200 and changed.json()["title"] == "Renamed"
    assert api.post(f"/api/v1/meetings/{meeting.code}/end").json()["error"]["code"] == "not_live"
    Occurrence.objects.filter(meeting=meeting).update(status="live")
    ended = api.post(f"/api/v1/meetings/{meeting.code}/end")
    assert ended.status_code == 200 and ended.json()[0]["status"] == "ended"
    cancelled = api.post(f"/api/v1/meetings/{meeting.code}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert api.patch(f"/api/v1/meetings/{meeting.code}", {"title": "x"}, format="json").status_code == 409


def test_one_sitting_of_a_series_moves_or_is_cancelled_alone(api, acme):
    meeting = MeetingFactory(organization=acme, rrule="FREQ=DAILY;COUNT=3")
    first, second, third = meeting.occurrences.order_by("start")
    moved = api.patch(f"/api/v1/occurrences/{second.code}",
                      {"start": (second.start + timedelta(minutes=30)).isoformat(),
                       "end": (second.end + timedelta(minutes=30)).isoformat(), "title": "Moved"}, format="json")

    assert moved.status_code == 200 and moved.json()["title"] == "Moved" and moved.json()["modified"] is True
    assert api.post(f"/api/v1/occurrences/{third.code}/cancel").json()["status"] == "cancelled"
    first.refresh_from_db()
    assert first.status == "scheduled"


# --- invitations and links -------------------------------------------------------------------------

def test_bulk_invitations_answer_row_by_row_with_links_that_work(api, acme):
    meeting = MeetingFactory(organization=acme, kind="webinar", max_watchers=100)
    response = api.post(f"/api/v1/meetings/{meeting.code}/invitations", {"send_email": False, "invitations": [
        {"email": "ana@example.net", "name": "Ana", "role": "viewer"},
        {"email": "not an address"},
        {"email": "ana@example.net"},
        {"email": "ivan@example.net", "role": "interpreter", "language": "fr"},
        {"email": "nul@example.net", "name": "bad\x00name"},
    ]}, format="json")
    body = response.json()

    assert response.status_code == 200 and (body["created"], body["refused"]) == (2, 3)
    assert [row["status"] for row in body["results"]] == ["created", "refused", "refused", "created", "refused"]
    assert "already invited" in str(body["results"][2]["errors"])
    link = body["results"][0]["link"]
    assert Client().get(link.split("testserver")[-1] if "testserver" in link else "/" + link.split("/", 3)[3]
                        ).status_code == 200
    assert set(meeting.invitations.values_list("email", flat=True)) >= {"ana@example.net", "ivan@example.net"}


def test_role_change_withdrawal_and_a_reissued_link(api, acme):
    meeting = MeetingFactory(organization=acme)
    person = InvitationFactory(meeting=meeting)

    assert api.patch(f"/api/v1/invitations/{person.code}", {"role": "moderator"}, format="json").json()["role"] \
        == "moderator"
    assert api.patch(f"/api/v1/invitations/{person.code}", {"role": "emperor"}, format="json").status_code == 400
    new_link = api.post(f"/api/v1/invitations/{person.code}/link", {}, format="json").json()["link"]
    path = "/" + new_link.split("/", 3)[3]
    assert Client().get(f"/j/{person.token}").status_code in (401, 404, 410)
    assert Client().get(path).status_code == 200
    assert api.delete(f"/api/v1/invitations/{person.code}").status_code == 204
    assert Client().get(path).status_code in (401, 404, 410)
    assert api.get(f"/api/v1/invitations/{person.code}").json()["state"] == "revoked"


def test_a_webinars_open_link_is_returned_once_and_revocable(api, acme):
    webinar = MeetingFactory(organization=acme, kind="webinar", max_watchers=100)
    call = MeetingFactory(organization=acme)
    link = api.post(f"/api/v1/meetings/{webinar.code}/open-link", {"capacity": 10}, format="json").json()["link"]
    path = "/" + link.split("/", 3)[3]

    assert Client().get(path).status_code == 200
    assert api.post(f"/api/v1/meetings/{call.code}/open-link", {"capacity": 10}, format="json").status_code == 400
    assert api.delete(f"/api/v1/meetings/{webinar.code}/open-link").status_code == 204
    assert Client().get(path).status_code in (401, 404, 410)


def test_attendance_recordings_and_usage_read_back(api, acme):
    meeting = MeetingFactory(organization=acme)
    recording = meeting.recordings.create(organization=acme, status="ready", size=10, duration_seconds=60)

    assert api.get(f"/api/v1/meetings/{meeting.code}/attendance").json() == []
    listed = api.get(f"/api/v1/meetings/{meeting.code}/recordings").json()["results"]
    assert [r["code"] for r in listed] == [recording.code] and listed[0]["visibility"] == "hosts"
    assert api.patch(f"/api/v1/recordings/{recording.code}", {"visibility": "invitees"},
                     format="json").json()["visibility"] == "invitees"
    months = api.get("/api/v1/usage?months=3").json()
    assert len(months) == 3 and set(months[0]) == {"month", "meetings", "participant_minutes", "recording_hours"}
    assert api.get("/api/v1/usage?months=0").status_code == 400


# --- members ---------------------------------------------------------------------------------------

def test_members_are_added_invited_changed_and_removed(api, acme, charlie):
    added = api.post("/api/v1/members", {"email": "new@acme.test", "role": "host"}, format="json").json()
    invited = api.post("/api/v1/members", {"email": charlie.user.email}, format="json").json()

    assert added["status"] == "added" and added["member"]["role"] == "host"
    assert invited["status"] == "invited" and MembershipInvitation.objects.filter(email=charlie.user.email).exists()
    code = added["member"]["code"]
    assert api.patch(f"/api/v1/members/{code}", {"role": "admin"}, format="json").json()["role"] == "admin"
    assert api.delete(f"/api/v1/members/{code}").status_code == 204
    assert not Membership.objects.filter(code=code).exists()
    only_owner = Membership.objects.get(organization=acme, role="owner")
    assert api.delete(f"/api/v1/members/{only_owner.code}").status_code in (400, 403)


# --- idempotency, rate limits, errors, sessions ----------------------------------------------------

def test_a_retried_create_returns_the_first_answer_and_a_changed_body_is_refused(api):
    start, end = later()
    body = {"title": "Once", "start": start, "end": end}
    first = api.post("/api/v1/meetings", body, format="json", HTTP_IDEMPOTENCY_KEY="create-once-1")
    again = api.post("/api/v1/meetings", body, format="json", HTTP_IDEMPOTENCY_KEY="create-once-1")
    other = api.post("/api/v1/meetings", {**body, "title": "Twice"}, format="json",
                     HTTP_IDEMPOTENCY_KEY="create-once-1")

    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true" and Meeting.objects.count() == 1
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert api.post("/api/v1/meetings", body, format="json", HTTP_IDEMPOTENCY_KEY="another").status_code == 201
    assert Meeting.objects.count() == 2


def test_a_refused_create_is_not_remembered_so_the_corrected_retry_runs(api):
    start, end = later()
    bad = api.post("/api/v1/meetings", {"title": "", "start": start, "end": end}, format="json",
                   HTTP_IDEMPOTENCY_KEY="fix-and-retry")
    assert bad.status_code == 400 and Meeting.objects.count() == 0


def test_beyond_the_rate_limit_a_key_gets_429_with_retry_after(api, settings):
    settings.API_REQUESTS_PER_MINUTE = 3
    answers = [api.get("/api/v1/rooms") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1]["Retry-After"]) > 0 and answers[-1].json()["error"]["code"] == "throttled"


@pytest.mark.parametrize("body", [b"{not json", b"\x00", "{\"title\": \"\u00fc\u0000\"}".encode(), b"[]"])
def test_malformed_bodies_get_a_400_and_write_nothing(api, body):
    response = api.post("/api/v1/meetings", body, content_type="application/json")

    assert response.status_code == 400 and "error" in response.json()
    assert not Meeting.objects.exists()


def test_the_portals_own_pages_call_with_the_session_and_csrf(alice, acme):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice.user)
    start, end = later()
    payload = {"title": "From the page", "start": start, "end": end}

    assert browser.get("/api/v1/meetings", HTTP_X_ORGANIZATION=acme.slug).status_code == 200
    assert browser.get("/api/v1/meetings", HTTP_X_ORGANIZATION="globex").status_code == 404
    no_csrf = browser.post("/api/v1/meetings", payload, content_type="application/json",
                           HTTP_X_ORGANIZATION=acme.slug)
    assert no_csrf.status_code == 403 and not Meeting.objects.exists()
    browser.get(f"/o/{acme.slug}/integrations/api-keys/")  # any page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    assert browser.post("/api/v1/meetings", payload, content_type="application/json", HTTP_X_ORGANIZATION=acme.slug,
                        HTTP_X_CSRFTOKEN=token).status_code == 201


def test_a_host_sees_only_meetings_they_manage_and_a_member_is_refused(acme, alice, bob):
    host = MembershipFactory(organization=acme, role="host")
    mine = MeetingFactory(organization=acme, owner=host.user)
    MeetingFactory(organization=acme, owner=alice.user)
    browser = Client()
    browser.force_login(host.user)

    listed = browser.get("/api/v1/meetings", HTTP_X_ORGANIZATION=acme.slug).json()["results"]
    assert [m["code"] for m in listed] == [mine.code]
    browser.force_login(bob.user)
    assert browser.get("/api/v1/meetings", HTTP_X_ORGANIZATION=acme.slug).status_code == 403


def test_the_schema_and_its_docs_are_served_by_the_portal(client):
    schema = client.get("/api/v1/schema?format=json")
    docs = client.get("/api/v1/docs")

    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    assert "/api/v1/meetings" in schema.json()["paths"]
    html = docs.content.decode()
    assert docs.status_code == 200 and "swagger-ui" in html and "cdn" not in html.lower()
    assert "<script>" not in html.replace(" ", "")  # no inline script: the CSP allows only the portal's files


def test_an_invitee_never_gets_in_with_their_join_link_as_a_key(acme):
    person = InvitationFactory(meeting=MeetingFactory(organization=acme))
    assert client_with(person.token).get("/api/v1/meetings").status_code == 401



# --- what an attacker tried (each held after the fix) ----------------------------------------------

def test_a_key_an_owner_made_never_touches_the_owner_role(api, acme, alice):
    host = MembershipFactory(organization=acme, role="host")
    MembershipFactory(organization=acme, role="owner")

    assert api.patch(f"/api/v1/members/{host.code}", {"role": "owner"}, format="json").status_code == 403
    assert api.delete(f"/api/v1/members/{alice.code}").status_code == 403
    assert api.post("/api/v1/members", {"email": "new@acme.test", "role": "owner"}, format="json").status_code == 403
    assert Membership.objects.filter(organization=acme, role="owner").count() == 2


def test_a_key_stops_when_its_admin_is_deactivated(api, alice):
    alice.user.is_active = False
    alice.user.save()
    assert api.get("/api/v1/meetings").status_code == 401


def test_kept_answers_hold_no_join_link_in_clear(api, acme):
    from portal.models import IdempotentRequest

    meeting = MeetingFactory(organization=acme)
    answer = api.post(f"/api/v1/meetings/{meeting.code}/invitations", {"invitations": [
        {"email": "ok@example.net"}, {"email": "bad@example.net", "role": "x\x00"}], "send_email": False},
        format="json", HTTP_IDEMPOTENCY_KEY="invite-1")
    token = answer.json()["results"][0]["link"].rsplit("/j/", 1)[1]
    stored = IdempotentRequest.objects.values_list("body", flat=True)  # decrypted by the field
    raw = IdempotentRequest.objects.extra(select={"raw": "body"}).values_list("raw", flat=True)

    assert answer.status_code == 200 and token in stored[0] and token not in raw[0]
    again = api.post(f"/api/v1/meetings/{meeting.code}/invitations", {"invitations": [
        {"email": "ok@example.net"}, {"email": "bad@example.net", "role": "x\x00"}], "send_email": False},
        format="json", HTTP_IDEMPOTENCY_KEY="invite-1")
    assert again.json() == answer.json() and answer["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", [
    "/api/v1/meetings?starts_after=2026-02-30T10:00:00%2B00:00", "/api/v1/meetings?starts_before=2026-13-01T10:00:00Z",
    "/api/v1/usage?months=%C2%B2", "/api/v1/usage?months=" + "9" * 5000])
def test_impossible_dates_and_odd_digits_in_the_query_are_a_400(api, url):
    assert api.get(url).status_code == 400


@pytest.mark.parametrize("change", [{"start": "2026-02-30T10:00:00+00:00"},
                                    {"recurrence": {"frequency": "daily", "until": "0999-01-01"}},
                                    {"recurrence": {"frequency": "daily", "until": "2000-01-01"}}])
def test_impossible_dates_and_series_ending_before_they_start_are_refused(api, change):
    assert schedule(api, **change).status_code == 400 and not Meeting.objects.exists()


def test_one_persons_idempotency_keys_do_not_cross_their_organizations(alice, acme, charlie):
    MembershipFactory(organization=charlie.organization, user=alice.user, role="admin")
    browser = Client()
    browser.force_login(alice.user)
    start, end = later()
    payload = {"title": "Same body", "start": start, "end": end}

    for slug in (acme.slug, charlie.organization.slug):
        assert browser.post("/api/v1/meetings", payload, content_type="application/json", HTTP_X_ORGANIZATION=slug,
                            HTTP_IDEMPOTENCY_KEY="same-key").status_code == 201
    assert Meeting.objects.filter(organization=charlie.organization).count() == 1


def test_refused_and_unauthenticated_calls_count_against_the_limits(make_key, settings):
    settings.API_REQUESTS_PER_MINUTE = 3
    settings.API_FAILED_AUTHENTICATIONS_PER_MINUTE = 2
    reader = client_with(make_key("read"))
    refused = [schedule(reader).status_code for _ in range(3)]
    guesses = [client_with("mpk_00000000_guess").get("/api/v1/meetings").status_code for _ in range(3)]

    assert refused == [403, 403, 403] and reader.get("/api/v1/meetings").status_code == 429
    assert guesses == [401, 401, 429]


def test_a_nul_in_a_header_is_refused_before_any_view():
    assert Client(HTTP_X_ORGANIZATION="acme\x00").get("/api/v1/meetings").status_code == 400

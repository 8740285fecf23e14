"""The webhook pages organization admins use (no browser): adding an endpoint shows its secret once,
bad URLs and bad input are form errors, other people get 404 or 403, and deliveries are re-sent."""

import pytest
from django.test import Client

from meetings.models import WebhookDelivery, WebhookEndpoint
from meetings.services import scheduling

from ..webhook_receiver import Receiver
from .test_outgoing_webhooks import schedule

BASE = "/o/acme/integrations/webhooks/"


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def as_owner(alice):
    browser = Client()
    browser.force_login(alice.user)
    return browser


def add(browser, url, events=("meeting.scheduled",), **extra):
    return browser.post(BASE + "new/", {"url": url, "events": list(events), "description": "LMS", **extra})


def test_an_admin_adds_an_endpoint_and_sees_its_secret_exactly_once(as_owner, receiver):
    response = add(as_owner, receiver.url("lms"))

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{BASE}{endpoint.code}/"
    first = as_owner.get(response["Location"])
    assert endpoint.secret.encode() in first.content and "no-store" in first["Cache-Control"]
    again = as_owner.get(response["Location"])
    assert endpoint.secret.encode() not in again.content
    assert endpoint.secret.encode() not in as_owner.get(BASE).content
    assert endpoint.secret.encode() not in as_owner.get(f"{BASE}{endpoint.code}/edit/").content


def test_rolling_the_secret_asks_first_then_shows_the_new_one_once(as_owner, receiver):
    add(as_owner, receiver.url("lms"))
    endpoint = WebhookEndpoint.objects.get()
    old = endpoint.secret

    assert b"Roll the signing secret?" in as_owner.get(f"{BASE}{endpoint.code}/secret/").content
    page = as_owner.post(f"{BASE}{endpoint.code}/secret/", follow=True)

    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret.encode() in page.content and old.encode() not in page.content


@pytest.mark.parametrize("url,message", [
    ("http://127.0.0.1:9/hook", "private to a network"),
    ("http://10.1.2.3/hook", "private to a network"),
    ("http://[::1]/hook", "private to a network"),
    ("ftp://example.com/hook", "http:// or https://"),
    ("https://user:pw@example.com/hook", "no user name or password"),
    ("https://example.com/" + "a" * 600, "at most 500 characters"),
    ("https://exämple.com/hook", "ASCII form"),
    ("https://example.com/a b", "ASCII form"),
    ("https://example.com/\x00", "Null characters are not allowed"),
])
def test_urls_the_portal_will_not_send_to_are_form_errors(as_owner, acme, settings, url, message):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False

    response = add(as_owner, url)

    assert response.status_code == 200 and message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("field,value", [("description", "a\x00b"), ("description", "two\nlines"),
                                         ("description", "x" * 300), ("events", "meeting.exploded")])
def test_bad_input_is_a_form_error_never_a_server_error(as_owner, receiver, field, value):
    data = {"url": receiver.url("lms"), "events": ["meeting.scheduled"], "description": "", field: value}

    response = as_owner.post(BASE + "new/", data)

    assert response.status_code == 200 and b'class="error"' in response.content
    assert not WebhookEndpoint.objects.exists()


def test_other_organizations_admins_get_404_and_members_403(as_owner, receiver, charlie, bob):
    add(as_owner, receiver.url("lms"))
    endpoint = WebhookEndpoint.objects.get()
    outsider, member = Client(), Client()
    outsider.force_login(charlie.user)
    member.force_login(bob.user)

    for path in ("", "edit/", "secret/", "delete/"):
        assert outsider.get(f"{BASE}{endpoint.code}/{path}").status_code == 404
        assert outsider.get(f"/o/globex/integrations/webhooks/{endpoint.code}/{path}").status_code == 404
        assert member.get(f"{BASE}{endpoint.code}/{path}").status_code == 403
    assert member.get(BASE).status_code == 403
    assert outsider.post(f"{BASE}{endpoint.code}/delete/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_a_delivery_is_shown_with_its_last_answer_and_resent_from_the_page(
        as_owner, alice, acme, receiver, django_capture_on_commit_callbacks):
    add(as_owner, receiver.url("lms"))
    endpoint = WebhookEndpoint.objects.get()
    receiver.secrets["lms"] = endpoint.secret
    as_owner.get(f"{BASE}{endpoint.code}/")  # where the secret was shown, once
    receiver.answers["lms"] = [500]
    with django_capture_on_commit_callbacks(execute=True):
        schedule(acme, alice.user)
    delivery = WebhookDelivery.objects.get()

    page = as_owner.get(f"{BASE}{endpoint.code}/").content.decode()
    assert f'data-delivery="{delivery.code}" data-status="pending"' in page and "500" in page
    detail = as_owner.get(f"{BASE}{endpoint.code}/deliveries/{delivery.code}/").content.decode()
    assert "from the test receiver" in detail and delivery.event_id in detail
    assert as_owner.get(f"{BASE}{endpoint.code}/deliveries/{delivery.code}/resend/").status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = as_owner.post(f"{BASE}{endpoint.code}/deliveries/{delivery.code}/resend/")

    assert response.status_code == 302
    again = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert again.status == "delivered" and again.event_id == delivery.event_id and again.resent_from == delivery
    delivery.refresh_from_db()
    assert delivery.status == "cancelled" and again.code in delivery.last_error  # one copy retries, not two
    assert [entry["status"] for entry in receiver.of("lms")] == [500, 200]
    assert all(entry["verified"] for entry in receiver.of("lms"))
    assert endpoint.secret not in page and endpoint.secret not in detail


def test_an_admin_edits_disables_enables_and_deletes_after_confirming(as_owner, acme, alice, receiver):
    add(as_owner, receiver.url("lms"))
    endpoint = WebhookEndpoint.objects.get()

    as_owner.post(f"{BASE}{endpoint.code}/edit/", {"url": receiver.url("lms2"), "description": "CRM",
                                                   "events": ["meeting.cancelled", "recording.ready"]})
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.enabled) == (
        receiver.url("lms2"), ["meeting.cancelled", "recording.ready"], False)  # "enabled" left unticked
    assert b"Enable again" in as_owner.get(f"{BASE}{endpoint.code}/").content
    as_owner.post(f"{BASE}{endpoint.code}/enable/")
    endpoint.refresh_from_db()
    assert endpoint.enabled

    meeting = schedule(acme, alice.user)
    scheduling.meeting_cancel(meeting=meeting)
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1
    assert b"Delete the endpoint" in as_owner.get(f"{BASE}{endpoint.code}/delete/").content
    assert WebhookEndpoint.objects.exists()
    assert as_owner.post(f"{BASE}{endpoint.code}/delete/")["Location"] == BASE
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()

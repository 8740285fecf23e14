"""Organization admins set the organization's name, time zone and default language in the portal;
signed-in people save their device's zone as their own."""

import pytest

from accounts.models import Organization, User

from .factories import MembershipFactory, UserFactory


def test_an_owner_sets_name_zone_and_language(as_alice, acme):
    page = as_alice.get("/o/acme/settings/")
    assert page.status_code == 200 and b'list="timezone-names"' in page.content
    assert b'<option value="America/New_York">' in page.content

    response = as_alice.post("/o/acme/settings/", {"name": "  Acme   Corp ", "timezone": "America/New_York",
                                                   "default_locale": "de"})

    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.name, acme.timezone, acme.default_locale) == ("Acme Corp", "America/New_York", "de")
    assert "saved" in as_alice.get("/o/acme/settings/").content.decode()


def test_an_admin_may_and_the_new_zone_shows_on_their_pages(client, acme):
    admin = MembershipFactory(organization=acme, role="admin", user=UserFactory(email="ada@acme.test")).user
    client.force_login(admin)
    client.post("/o/acme/settings/", {"name": "Acme", "timezone": "Asia/Tokyo", "default_locale": "en"})
    assert 'data-page-zone="Asia/Tokyo"' in client.get("/o/acme/members/").content.decode()


@pytest.mark.parametrize("bad, field", [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "Europe/Berlin\x00"}, "timezone"),
    ({"timezone": "x" * 500}, "timezone"),
    ({"default_locale": "it"}, "default_locale"),
    ({"default_locale": "xx"}, "default_locale"),
    ({"name": "   "}, "name"),
    ({"name": "A" * 500}, "name"),
    ({"name": "Acme\x00"}, "name"),
])
def test_bad_settings_are_refused_with_a_message_and_nothing_changes(as_alice, acme, bad, field):
    before = Organization.objects.values("name", "timezone", "default_locale").get(pk=acme.pk)
    data = {"name": "Renamed", "timezone": "Asia/Tokyo", "default_locale": "fr", **bad}

    response = as_alice.post("/o/acme/settings/", data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Organization.objects.values("name", "timezone", "default_locale").get(pk=acme.pk) == before
    assert "<h1>Acme</h1>" in response.content.decode()  # the header keeps the saved name


def test_a_name_is_kept_on_one_line(as_alice, acme):
    as_alice.post("/o/acme/settings/", {"name": "Acme\r\nBcc: x", "timezone": "UTC", "default_locale": "en"})
    acme.refresh_from_db()
    assert acme.name == "Acme Bcc: x"


def test_non_ascii_names_are_fine(as_alice, acme):
    as_alice.post("/o/acme/settings/", {"name": "Ätna Übersetzungen", "timezone": "Europe/Berlin",
                                        "default_locale": "de"})
    acme.refresh_from_db()
    assert acme.name == "Ätna Übersetzungen"


def test_hosts_get_403_outsiders_404_and_anonymous_the_sign_in_page(client, acme, charlie):
    host = MembershipFactory(organization=acme, role="host").user
    client.force_login(host)
    assert client.get("/o/acme/settings/").status_code == 403
    assert client.post("/o/acme/settings/", {"name": "Hijacked", "timezone": "UTC",
                                             "default_locale": "en"}).status_code == 403
    client.force_login(charlie.user)
    assert client.get("/o/acme/settings/").status_code == 404
    assert client.post("/o/acme/settings/", {"name": "Hijacked", "timezone": "UTC",
                                             "default_locale": "en"}).status_code == 404
    client.logout()
    response = client.get("/o/acme/settings/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert Organization.objects.get(slug="acme").name == "Acme"


def test_the_settings_tab_shows_for_admins_only(client, acme, bob):
    client.force_login(bob.user)
    assert b"/o/acme/settings/" not in client.get("/o/acme/members/").content
    client.force_login(acme.memberships.get(role="owner").user)
    assert b"/o/acme/settings/" in client.get("/o/acme/members/").content


def test_a_person_saves_their_device_zone(as_alice, alice):
    page = as_alice.get("/o/acme/members/").content.decode()
    assert 'data-save-url="/account/timezone/"' in page  # no zone of their own yet: the offer is made

    response = as_alice.post("/account/timezone/", {"timezone": "America/New_York"})

    assert response.status_code == 200
    alice.user.refresh_from_db()
    assert alice.user.timezone == "America/New_York"
    page = as_alice.get("/o/acme/members/").content.decode()
    assert 'data-page-zone="America/New_York"' in page and "data-save-url" not in page


@pytest.mark.parametrize("zone", ["Nowhere/City", "", "Europe/Berlin\x00", "é" * 100])
def test_a_bad_zone_is_refused_and_nothing_is_saved(as_alice, alice, zone):
    response = as_alice.post("/account/timezone/", {"timezone": zone})
    assert response.status_code == 400 and "error" in response.json()
    assert User.objects.get(pk=alice.user.pk).timezone == ""


def test_saving_a_zone_needs_a_signed_in_person_a_post_and_a_csrf_token(client, alice):
    assert client.post("/account/timezone/", {"timezone": "Asia/Tokyo"}).status_code == 302
    client.force_login(alice.user)
    assert client.get("/account/timezone/").status_code == 405
    strict = type(client)(enforce_csrf_checks=True)
    strict.force_login(alice.user)
    assert strict.post("/account/timezone/", {"timezone": "Asia/Tokyo"}).status_code == 403
    assert User.objects.get(pk=alice.user.pk).timezone == ""

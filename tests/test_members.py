"""Organization admins manage members in the portal; every organization keeps an owner."""

import re

from django.core import mail
from django.test import Client

from accounts.models import Membership, User

from .factories import MembershipFactory, UserFactory


def role_of(user):
    return Membership.objects.get(user=user).role


def test_admin_adds_a_new_person_who_receives_a_set_password_email(as_alice, acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_alice.post("/o/acme/members/", {"email": "New.Person@Acme.test", "role": "host"})

    assert response.status_code == 302
    newcomer = User.objects.get(email="new.person@acme.test")
    assert Membership.objects.get(user=newcomer, organization=acme).role == "host"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.person@acme.test"]
    assert "You were added to Acme" in mail.outbox[0].subject
    link = re.search(r"http://\S+/password/set/\S+/", mail.outbox[0].body).group(0)

    visitor = Client()
    form = visitor.get(link.split("http://127.0.0.1:8000")[-1], follow=True)
    assert b'name="new_password1"' in form.content
    passphrase = "a long new passphrase"
    visitor.post(form.redirect_chain[-1][0], {"new_password1": passphrase, "new_password2": passphrase})
    signed_in = visitor.post("/login/password/", {"username": "new.person@acme.test", "password": passphrase})
    assert signed_in.status_code == 302
    assert visitor.get("/o/acme/").status_code == 200


def test_adding_someone_twice_is_refused_and_nothing_changes(as_alice, bob):
    response = as_alice.post("/o/acme/members/", {"email": "BOB@acme.test", "role": "admin"})

    assert response.status_code == 200
    assert b"already a member of Acme" in response.content
    assert role_of(bob.user) == "member"


def test_bad_input_keeps_what_was_typed(as_alice):
    response = as_alice.post("/o/acme/members/", {"email": "not-an-address", "full_name": "Kept Name", "role": "host"})

    assert response.status_code == 200
    assert b"Enter a valid email address" in response.content
    assert b'value="Kept Name"' in response.content


def test_member_cannot_add_change_or_remove_others(client, bob, alice):
    client.force_login(bob.user)

    page = client.get("/o/acme/members/")
    assert page.status_code == 200 and b"Add a member" not in page.content
    client.post("/o/acme/members/", {"email": "sneaky@acme.test", "role": "owner"})
    assert not User.objects.filter(email="sneaky@acme.test").exists()
    assert client.post(f"/o/acme/members/{alice.code}/role/", {"role": "member"}).status_code == 403
    assert client.post(f"/o/acme/members/{alice.code}/remove/").status_code == 403
    assert role_of(alice.user) == "owner"


def test_admin_changes_roles_but_only_an_owner_grants_ownership(client, acme, bob):
    admin = MembershipFactory(organization=acme, role="admin")
    client.force_login(admin.user)

    client.post(f"/o/acme/members/{bob.code}/role/", {"role": "host"})
    assert role_of(bob.user) == "host"
    response = client.post(f"/o/acme/members/{bob.code}/role/", {"role": "owner"}, follow=True)
    assert b"Only an owner can grant" in response.content
    assert role_of(bob.user) == "host"


def test_the_last_owner_can_be_neither_demoted_nor_removed(as_alice, alice, bob):
    demote = as_alice.post(f"/o/acme/members/{alice.code}/role/", {"role": "admin"}, follow=True)
    remove = as_alice.post(f"/o/acme/members/{alice.code}/remove/", follow=True)

    assert b"keeps at least one owner" in demote.content and b"keeps at least one owner" in remove.content
    assert role_of(alice.user) == "owner"

    as_alice.post(f"/o/acme/members/{bob.code}/role/", {"role": "owner"})
    as_alice.post(f"/o/acme/members/{alice.code}/role/", {"role": "member"})
    assert (role_of(alice.user), role_of(bob.user)) == ("member", "owner")


def test_removal_asks_for_confirmation_first(as_alice, bob):
    confirm = as_alice.get(f"/o/acme/members/{bob.code}/remove/")
    assert confirm.status_code == 200 and b"Remove" in confirm.content
    assert Membership.objects.filter(pk=bob.pk).exists()

    as_alice.post(f"/o/acme/members/{bob.code}/remove/")
    assert not Membership.objects.filter(pk=bob.pk).exists()
    assert User.objects.filter(pk=bob.user.pk).exists()


def test_a_member_can_leave(client, bob):
    client.force_login(bob.user)

    response = client.post(f"/o/acme/members/{bob.code}/remove/")

    assert response["Location"] == "/"
    assert client.get("/o/acme/").status_code == 404


def test_member_list_is_paginated_and_searchable(as_alice, acme):
    for n in range(120):
        MembershipFactory(organization=acme, user=UserFactory(email=f"staff{n:03d}@acme.test"))

    first = as_alice.get("/o/acme/members/")
    third = as_alice.get("/o/acme/members/?page=3")
    found = as_alice.get("/o/acme/members/?q=staff007")

    assert first.content.count(b"data-member=") == 50 and b"Page 1 of 3" in first.content
    assert third.content.count(b"data-member=") == 21  # 121 members in all, alice included
    assert found.content.count(b"data-member=") == 1


def test_someone_in_two_organizations_switches_between_them(client, alice, charlie):
    MembershipFactory(organization=charlie.organization, user=alice.user, role="host")
    client.force_login(alice.user)

    assert client.get("/")["Location"] == "/o/acme/"
    page = client.get("/o/globex/")
    assert b'href="/o/acme/"' in page.content and b"Your role: Host" in page.content
    assert client.get("/")["Location"] == "/o/globex/"


def test_times_are_shown_in_the_viewers_zone(client, alice):
    client.force_login(alice.user)
    assert b"times shown in Europe/Berlin" in client.get("/o/acme/").content  # the organization's zone

    alice.user.timezone = "America/New_York"
    alice.user.save()
    assert b"times shown in America/New_York" in client.get("/o/acme/").content


def test_forms_refuse_posts_without_a_csrf_token(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice.user)

    response = browser.post("/o/acme/members/", {"email": "x@acme.test", "role": "member"})

    assert response.status_code == 403
    assert not User.objects.filter(email="x@acme.test").exists()


def test_someone_without_an_organization_is_told_so(client, db):
    client.force_login(UserFactory())

    assert b"not a member of any organization" in client.get("/").content


def test_signed_out_visitors_are_sent_to_sign_in(client, acme):
    assert client.get("/o/acme/members/")["Location"] == "/login/?next=/o/acme/members/"


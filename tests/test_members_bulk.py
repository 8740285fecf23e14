"""Owners and admins add people in bulk, from a pasted list or a CSV: everyone or nobody, with a
report per row, through the same code as adding one person."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Membership, MembershipInvitation, User
from accounts.services import parse_member_lines

from .factories import MembershipFactory, UserFactory

BULK = "/o/acme/members/bulk/"


def members_of(org):
    return dict(Membership.objects.of(org).values_list("user__email", "role"))


def test_lines_take_an_address_a_name_and_a_role():
    rows = parse_member_lines("ada@acme.test\n\n  Grace Hopper <Grace@Acme.test>, host \n"
                              "\"Turing, Alan\" <alan@acme.test>\nlin@acme.test, Admin\n")
    assert [(r.line, r.email, r.name, r.role) for r in rows] == [
        (1, "ada@acme.test", "", ""), (3, "Grace@Acme.test", "Grace Hopper", "host"),
        (4, "alan@acme.test", "Turing, Alan", ""), (5, "lin@acme.test", "", "admin")]


def test_a_pasted_list_adds_everyone_and_invites_existing_accounts(as_alice, acme, django_capture_on_commit_callbacks):
    UserFactory(email="known@elsewhere.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = as_alice.post(BULK, {"people": "ada@acme.test\nGrace Hopper <grace@acme.test>, host\n"
                                                  "known@elsewhere.test", "role": "member"})

    assert response.status_code == 302
    assert members_of(acme) == {"alice@acme.test": "owner", "ada@acme.test": "member", "grace@acme.test": "host"}
    assert User.objects.get(email="grace@acme.test").full_name == "Grace Hopper"
    assert MembershipInvitation.objects.of(acme).get().email == "known@elsewhere.test"
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@acme.test", "grace@acme.test", "known@elsewhere.test"]
    page = as_alice.get("/o/acme/members/").content.decode()
    assert "2 people were added. 1 already had an account and was sent an invitation to accept." in page


def test_one_bad_row_refuses_the_whole_list_with_a_report_per_row(as_alice, acme, bob):
    response = as_alice.post(BULK, {"people": "ada@acme.test\nnot-an-address\nbob@acme.test\n"
                                              "ada@acme.test\ncy@acme.test, boss\n" + "Zed\x07 <zed@acme.test>",
                                    "role": "member"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Nobody was added" in page
    report = {row.line: (row.accepted, row.problems) for row in response.context["report"]}
    assert report[1] == (True, [])
    assert report[2] == (False, ["not a valid email address"])
    assert report[3] == (False, ["already a member"])
    assert report[4] == (False, ["also on line 1"])
    assert "unknown role “boss”" in report[5][1][0]
    assert report[6][1] == ["a name is one line without control characters"]
    assert members_of(acme) == {"alice@acme.test": "owner", "bob@acme.test": "member"}
    assert not User.objects.filter(email="ada@acme.test").exists()


def test_a_csv_adds_everyone(as_alice, acme):
    upload = SimpleUploadedFile("people.csv", "\ufeffRole,Email,Name\nhost,ada@acme.test,Ada Lovelace\n\n"
                                ",emile@acme.test,Émile Zola\n".encode(), content_type="text/csv")
    response = as_alice.post(BULK, {"file": upload, "role": "member"})
    assert response.status_code == 302
    assert members_of(acme)["ada@acme.test"] == "host" and members_of(acme)["emile@acme.test"] == "member"
    assert User.objects.get(email="emile@acme.test").full_name == "Émile Zola"


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe\x00junk", "not UTF-8"),
    (b"name,role\nAda,host\n", "must name the columns"),
    (b"email,name\nada@acme.test,A\x00da\n", "NUL"),
    (b"email,name,role\n", "nobody to add"),
])
def test_a_bad_csv_is_refused_with_a_message(as_alice, acme, content, message):
    response = as_alice.post(BULK, {"file": SimpleUploadedFile("x.csv", content), "role": "member"})
    assert response.status_code == 200 and message in response.content.decode()
    assert len(members_of(acme)) == 1


@pytest.mark.parametrize("data, message", [
    ({"people": "", "role": "member"}, "Paste a list or choose a CSV file"),
    ({"people": "a@acme.test\x00", "role": "member"}, "Null characters are not allowed"),
    ({"people": "a@acme.test", "role": "emperor"}, "Select a valid choice"),
    ({"people": "x" * 200_001, "role": "member"}, "at most 200000 characters"),
    ({"people": "\n".join(f"p{n}@acme.test" for n in range(1001)), "role": "member"}, "At most 1000 people"),
    ({"people": ("a" * 250) + "@acme.test", "role": "member"}, "an address has at most"),
])
def test_bad_input_gets_a_message_and_writes_nothing(as_alice, acme, data, message):
    response = as_alice.post(BULK, data)
    assert response.status_code == 200
    assert message in response.content.decode().replace("200,000", "200000")
    assert len(members_of(acme)) == 1 and User.objects.count() == 1


def test_only_owners_add_owners(client, acme):
    admin = MembershipFactory(organization=acme, role="admin", user=UserFactory(email="ad@acme.test")).user
    client.force_login(admin)
    response = client.post(BULK, {"people": "new@acme.test, owner", "role": "member"})
    assert "only an owner can add an owner" in response.content.decode()
    assert "new@acme.test" not in members_of(acme)


def test_members_and_hosts_get_403_outsiders_404_anonymous_the_sign_in_page(client, acme, bob, charlie):
    data = {"people": "sneaky@acme.test", "role": "member"}
    client.force_login(bob.user)
    assert client.post(BULK, data).status_code == 403
    client.force_login(charlie.user)
    assert client.post(BULK, data).status_code == 404
    client.logout()
    assert client.post(BULK, data)["Location"].startswith("/login/")
    assert not User.objects.filter(email="sneaky@acme.test").exists()


def test_the_bulk_form_needs_a_post_and_a_csrf_token(client, alice, acme):
    client.force_login(alice.user)
    assert client.get(BULK).status_code == 405
    strict = type(client)(enforce_csrf_checks=True)
    strict.force_login(alice.user)
    assert strict.post(BULK, {"people": "x@acme.test", "role": "member"}).status_code == 403

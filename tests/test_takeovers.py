"""Ways one organization's admin could reach another organization's people, and what stops them.

Acme (alice, owner) and Globex (charlie, owner) share nothing. Charlie administers Globex and is a
staff operator who is not a superuser; each test is one attempt he makes on Acme's people."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, MembershipInvitation, User

from .factories import MeetingFactory, MembershipFactory, ProviderAccountFactory, RoomFactory, UserFactory


@pytest.fixture
def dave(acme):
    """An Acme member who is also a plain member of Globex."""
    membership = MembershipFactory(organization=acme, user=UserFactory(email="dave@acme.test"), role="member")
    return membership.user


@pytest.fixture
def staff_charlie(charlie):
    charlie.user.is_staff = True
    charlie.user.save()
    return charlie


@pytest.fixture
def globex_admin(charlie):
    """Staff admin (not owner) of Globex."""
    user = UserFactory(email="gina@globex.test", is_staff=True)
    MembershipFactory(organization=charlie.organization, user=user, role="admin")
    return user


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def invite_link(message) -> str:
    return re.search(r"http://\S+(/invites/\S+/)", message.body).group(1)


# --- Attaching an existing account ---------------------------------------------------------------

def test_adding_an_existing_account_sends_an_invitation_and_attaches_nobody(
        staff_charlie, dave, django_capture_on_commit_callbacks):
    globex = staff_charlie.organization
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client(staff_charlie.user).post("/o/globex/members/", {"email": "dave@acme.test",
                                                                              "role": "owner"}, follow=True)

    assert b"sent an invitation" in response.content
    assert not Membership.objects.filter(organization=globex, user=dave).exists()
    assert mail.outbox[-1].to == ["dave@acme.test"] and "Join Globex" in mail.outbox[-1].subject
    assert MembershipInvitation.objects.get(organization=globex).token_hash not in mail.outbox[-1].body


def test_the_invitation_is_accepted_only_signed_in_as_the_invited_account(
        staff_charlie, dave, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client(staff_charlie.user).post("/o/globex/members/", {"email": "dave@acme.test", "role": "host"})
    link = invite_link(mail.outbox[-1])

    anonymous = Client().get(link)
    assert anonymous.status_code == 200 and b"Sign in as that account" in anonymous.content
    assert Client().post(link).status_code == 200
    someone_else = admin_client(alice.user)
    assert b"but you are signed in as alice@acme.test" in someone_else.get(link).content
    someone_else.post(link)
    assert not Membership.objects.filter(organization=staff_charlie.organization).exclude(
        user=staff_charlie.user).exists()

    accepted = admin_client(dave).post(link)

    assert accepted.status_code == 302 and accepted["Location"] == "/o/globex/"
    assert Membership.objects.get(organization=staff_charlie.organization, user=dave).role == "host"
    assert admin_client(dave).get(link).status_code == 410  # used once


def test_an_expired_or_unknown_invitation_attaches_nobody(staff_charlie, dave, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client(staff_charlie.user).post("/o/globex/members/", {"email": "dave@acme.test", "role": "host"})
    link = invite_link(mail.outbox[-1])
    MembershipInvitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    assert admin_client(dave).post(link).status_code == 410
    assert admin_client(dave).get("/invites/not-a-real-token/").status_code == 404
    assert not Membership.objects.filter(organization=staff_charlie.organization, user=dave).exists()


def test_an_admin_cannot_invite_an_owner(globex_admin, dave):
    response = admin_client(globex_admin).post("/o/globex/members/", {"email": "dave@acme.test", "role": "owner"})

    assert b"Only an owner can grant" in response.content
    assert not MembershipInvitation.objects.exists()


# --- Django admin as a staff admin of another organization --------------------------------------

def test_staff_cannot_change_the_email_password_or_flags_of_a_shared_member(staff_charlie, dave):
    MembershipFactory(organization=staff_charlie.organization, user=dave, role="member")
    client = admin_client(staff_charlie.user)
    page = client.get(f"/admin/accounts/user/{dave.pk}/change/")
    assert page.status_code == 200

    client.post(f"/admin/accounts/user/{dave.pk}/change/", {
        "email": "newhire@alpha.test", "full_name": "Dave", "is_active": "", "timezone": "",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "oidc_identities-TOTAL_FORMS": "0", "oidc_identities-INITIAL_FORMS": "0"})
    password_page = client.post(f"/admin/accounts/user/{dave.pk}/password/",
                                {"password1": "taken over 123!", "password2": "taken over 123!"})

    dave.refresh_from_db()
    assert dave.email == "dave@acme.test" and dave.is_active
    assert password_page.status_code == 403 and not dave.check_password("taken over 123!")


def test_staff_cannot_attach_another_organizations_person_through_admin(staff_charlie, dave):
    client = admin_client(staff_charlie.user)
    globex = staff_charlie.organization

    added = client.post("/admin/accounts/membership/add/", {"user": dave.pk, "organization": globex.pk,
                                                            "role": "member"})

    assert added.status_code == 403
    assert not Membership.objects.filter(organization=globex, user=dave).exists()
    assert client.get("/admin/accounts/user/add/").status_code == 403


def test_a_staff_admin_cannot_make_themselves_owner_in_admin(globex_admin):
    own = Membership.objects.get(user=globex_admin)
    client = admin_client(globex_admin)

    response = client.post(f"/admin/accounts/membership/{own.pk}/change/", {"role": "owner"}, follow=True)

    own.refresh_from_db()
    assert own.role == "admin"
    assert b"Only an owner can grant" in response.content


def test_a_staff_admin_cannot_remove_an_owner_in_admin(globex_admin, charlie):
    client = admin_client(globex_admin)

    client.post(f"/admin/accounts/membership/{charlie.pk}/delete/", {"post": "yes"})

    assert Membership.objects.filter(pk=charlie.pk, role="owner").exists()


def test_no_admin_can_tie_a_meeting_to_another_organizations_people_or_rooms(charlie, alice):
    root = UserFactory(email="root@portal.test", is_staff=True, is_superuser=True)
    globex_meeting = MeetingFactory(organization=charlie.organization, owner=charlie.user)
    acme_room = RoomFactory(organization=alice.organization, owner=alice.user)
    acme_account = ProviderAccountFactory(organization=alice.organization)
    client = admin_client(root)
    form = client.get(f"/admin/meetings/meeting/{globex_meeting.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update({"organization": charlie.organization.pk, "room": acme_room.pk, "owner": alice.user.pk,
                 "co_hosts": [alice.user.pk], "provider_account": acme_account.pk,
                 "start_0": globex_meeting.start.strftime("%Y-%m-%d"), "start_1": "10:00:00",
                 "end_0": globex_meeting.end.strftime("%Y-%m-%d"), "end_1": "11:00:00",
                 "occurrences-TOTAL_FORMS": "0", "occurrences-INITIAL_FORMS": "0",
                 "sync-TOTAL_FORMS": "0", "sync-INITIAL_FORMS": "0"})

    response = client.post(f"/admin/meetings/meeting/{globex_meeting.pk}/change/", data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"room", "owner", "co_hosts", "provider_account"} <= set(errors)
    globex_meeting.refresh_from_db()
    assert globex_meeting.room.organization_id == charlie.organization.pk
    assert globex_meeting.owner_id == charlie.user.pk


# --- Identity providers vouch for their own domains only ---------------------------------------

def test_an_identity_provider_email_never_overwrites_an_account_of_other_organizations(acme, charlie):
    from accounts.models import OIDCIdentity
    from accounts.services import oidc_sign_in

    from .factories import IdentityProviderFactory

    globex_idp = IdentityProviderFactory(organization=charlie.organization, allowed_email_domains="",
                                         provision_unknown_users=False)
    shared = UserFactory(email="sam@globex.test")
    MembershipFactory(organization=charlie.organization, user=shared)
    MembershipFactory(organization=acme, user=shared)
    OIDCIdentity.objects.create(user=shared, issuer=globex_idp.issuer, subject="sam")

    oidc_sign_in(identity_provider=globex_idp, claims={"sub": "sam", "email": "newhire@alpha.test",
                                                      "email_verified": True})

    shared.refresh_from_db()
    assert shared.email == "sam@globex.test"


def test_an_identity_provider_creates_accounts_only_in_its_own_domains(charlie):
    from accounts.services import SignInRefused, oidc_sign_in

    from .factories import IdentityProviderFactory

    globex_idp = IdentityProviderFactory(organization=charlie.organization, allowed_email_domains="",
                                         provision_unknown_users=True)

    with pytest.raises(SignInRefused, match="only for its own email domains"):
        oidc_sign_in(identity_provider=globex_idp, claims={"sub": "x", "email": "newhire@alpha.test",
                                                          "email_verified": True})
    assert not User.objects.filter(email="newhire@alpha.test").exists()


# --- Identity providers are the operators' to configure -----------------------------------------

def test_a_staff_admin_cannot_reconfigure_the_organizations_identity_provider(globex_admin, charlie):
    from .factories import IdentityProviderFactory

    idp = IdentityProviderFactory(organization=charlie.organization, issuer="https://idp.globex.example",
                                  allowed_email_domains="globex.test")
    client = admin_client(globex_admin)

    assert client.get(f"/admin/accounts/identityprovider/{idp.pk}/change/").status_code == 200  # may look
    response = client.post(f"/admin/accounts/identityprovider/{idp.pk}/change/", {
        "organization": charlie.organization.pk, "enabled": "on", "issuer": "https://evil.example",
        "client_id": "x", "scopes": "openid email", "allowed_email_domains": "partner.test",
        "groups_claim": "groups", "group_roles": '{"g": "admin"}', "provision_unknown_users": "on"})

    idp.refresh_from_db()
    assert response.status_code == 403
    assert (idp.issuer, idp.allowed_email_domains, idp.group_roles) == ("https://idp.globex.example",
                                                                        "globex.test", {})


def test_groups_never_grant_or_take_the_owner_role(charlie):
    from accounts.admin import IdentityProviderForm
    from accounts.services import oidc_sign_in

    from .factories import IdentityProviderFactory

    form = IdentityProviderForm(data={"organization": charlie.organization.pk, "issuer": "https://idp.example",
                                      "client_id": "x", "scopes": "openid", "group_roles": '{"g": "owner"}'})
    assert not form.is_valid() and "never grant owner" in str(form.errors["group_roles"])

    idp = IdentityProviderFactory(organization=charlie.organization, allowed_email_domains="globex.test",
                                  group_roles={"g": "owner", "staff": "member"}, provision_unknown_users=True)
    _, newcomer = oidc_sign_in(identity_provider=idp, claims={"sub": "m", "email": "mallory@globex.test",
                                                             "email_verified": True, "groups": ["g"]})
    second_owner = MembershipFactory(organization=charlie.organization, role="owner",
                                     user=UserFactory(email="owen@globex.test")).user
    from accounts.models import OIDCIdentity
    OIDCIdentity.objects.create(user=second_owner, issuer=idp.issuer, subject="o2")
    _, kept = oidc_sign_in(identity_provider=idp, claims={"sub": "o2", "email_verified": True,
                                                         "email": second_owner.email, "groups": ["staff"]})

    assert newcomer.role == "member"
    assert kept.role == "owner"


def test_an_identity_provider_cannot_claim_another_organizations_domain(acme, charlie):
    from accounts.admin import IdentityProviderForm

    from .factories import IdentityProviderFactory

    IdentityProviderFactory(organization=charlie.organization, allowed_email_domains="globex.test")
    form = IdentityProviderForm(data={"organization": acme.pk, "issuer": "https://idp.example", "client_id": "x",
                                      "scopes": "openid", "group_roles": "{}",
                                      "allowed_email_domains": "acme.test, GLOBEX.test"})

    assert not form.is_valid()
    assert "globex.test already belongs to another organization" in str(form.errors["allowed_email_domains"])


def test_an_identity_provider_does_not_take_over_an_owner_or_admin_by_email(charlie):
    from accounts.services import SignInRefused, oidc_sign_in

    from .factories import IdentityProviderFactory

    idp = IdentityProviderFactory(organization=charlie.organization, allowed_email_domains="globex.test")

    with pytest.raises(SignInRefused, match="Ask an operator to link it"):
        oidc_sign_in(identity_provider=idp, claims={"sub": "attacker", "email": charlie.user.email,
                                                   "email_verified": True})
    assert not charlie.user.oidc_identities.exists()


def test_staff_lists_never_name_other_organizations(globex_admin, alice, acme, charlie):
    MeetingFactory(organization=acme, owner=alice.user, title="Acme secret plans")
    MeetingFactory(organization=charlie.organization, owner=charlie.user, title="Globex meeting")
    shared = UserFactory(email="dana@acme.test", full_name="Dana")
    MembershipFactory(organization=acme, user=shared)
    MembershipFactory(organization=charlie.organization, user=shared)
    client = admin_client(globex_admin)

    for path in ("/admin/meetings/meeting/", "/admin/accounts/user/", "/admin/accounts/membership/",
                 "/admin/meetings/room/", "/admin/meetings/invitation/"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert b"Acme" not in page.content, path


def test_staff_cannot_rename_a_person_other_organizations_also_see(staff_charlie, dave):
    MembershipFactory(organization=staff_charlie.organization, user=dave, role="member")
    client = admin_client(staff_charlie.user)

    client.post(f"/admin/accounts/user/{dave.pk}/change/", {
        "full_name": "Alice Owner (Acme CEO)", "timezone": "",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "oidc_identities-TOTAL_FORMS": "0", "oidc_identities-INITIAL_FORMS": "0"})

    dave.refresh_from_db()
    assert dave.full_name != "Alice Owner (Acme CEO)"

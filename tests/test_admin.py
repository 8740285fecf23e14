"""Operators use Django admin; staff who are not superusers see only organizations they administer."""

import pytest

from accounts.models import IdentityProvider

from .factories import IdentityProviderFactory, MembershipFactory, UserFactory


@pytest.fixture
def staff_admin_of_acme(acme):
    operator = UserFactory(email="ops@acme.test", is_staff=True)
    membership = MembershipFactory(organization=acme, role="admin", user=operator)
    return membership.user


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@portal.test", is_staff=True, is_superuser=True)


def test_superusers_see_and_search_every_organization(client, superuser, acme, charlie):
    client.force_login(superuser)

    listing = client.get("/admin/accounts/organization/")
    search = client.get("/admin/accounts/organization/?q=glob")

    assert b"Acme" in listing.content and b"Globex" in listing.content
    assert b"Globex" in search.content and b">Acme<" not in search.content


def test_staff_see_only_the_organizations_they_administer(client, staff_admin_of_acme, acme, charlie):
    client.force_login(staff_admin_of_acme)

    organizations = client.get("/admin/accounts/organization/")
    memberships = client.get("/admin/accounts/membership/")
    users = client.get("/admin/accounts/user/")
    foreign = client.get(f"/admin/accounts/organization/{charlie.organization.pk}/change/", follow=True)

    assert b"Acme" in organizations.content and b"Globex" not in organizations.content
    assert b"alice@acme.test" in memberships.content and b"charlie@globex.test" not in memberships.content
    assert b"alice@acme.test" in users.content and b"charlie@globex.test" not in users.content
    assert b"doesn\xe2\x80\x99t exist" in foreign.content or b"doesn't exist" in foreign.content
    assert client.get(f"/admin/accounts/organization/{acme.pk}/change/").status_code == 200


def test_staff_cannot_make_themselves_superusers(client, staff_admin_of_acme):
    client.force_login(staff_admin_of_acme)

    page = client.get(f"/admin/accounts/user/{staff_admin_of_acme.pk}/change/")

    assert page.status_code == 200
    assert b'name="is_superuser"' not in page.content


def test_staff_who_administer_nothing_see_nothing(client, acme):
    bystander = MembershipFactory(organization=acme, role="member", user=UserFactory(is_staff=True)).user
    client.force_login(bystander)

    assert client.get("/admin/accounts/organization/").status_code == 403


def test_identity_provider_secret_is_write_only(client, superuser, acme, idp_a):
    idp = IdentityProviderFactory(organization=acme, issuer=idp_a.issuer, client_secret="s3cret-value-xyz")
    client.force_login(superuser)
    url = f"/admin/accounts/identityprovider/{idp.pk}/change/"

    page = client.get(url)
    assert page.status_code == 200 and b"s3cret-value-xyz" not in page.content

    form = {"organization": acme.pk, "enabled": "on", "issuer": idp_a.issuer, "client_id": "new-client",
            "client_secret": "", "scopes": "openid email", "allowed_email_domains": "acme.test",
            "groups_claim": "groups", "group_roles": '{"ops": "admin"}'}
    assert client.post(url, form).status_code == 302
    idp = IdentityProvider.objects.get(pk=idp.pk)
    assert (idp.client_id, idp.client_secret, idp.group_roles) == ("new-client", "s3cret-value-xyz", {"ops": "admin"})


def test_identity_provider_with_unreachable_discovery_is_not_saved(client, superuser, acme):
    client.force_login(superuser)

    response = client.post("/admin/accounts/identityprovider/add/", {
        "organization": acme.pk, "enabled": "on", "issuer": "http://127.0.0.1:9/", "client_id": "c",
        "client_secret": "s", "scopes": "openid", "groups_claim": "groups", "group_roles": "{}"})

    assert response.status_code == 200 and b"Discovery failed" in response.content
    assert not IdentityProvider.objects.exists()


def test_group_roles_must_name_real_roles(client, superuser, acme, idp_a):
    client.force_login(superuser)

    response = client.post("/admin/accounts/identityprovider/add/", {
        "organization": acme.pk, "enabled": "on", "issuer": idp_a.issuer, "client_id": "c",
        "client_secret": "s", "scopes": "openid", "groups_claim": "groups", "group_roles": '{"g": "emperor"}'})

    assert b"Unknown roles: emperor" in response.content
    assert not IdentityProvider.objects.exists()


def test_staff_see_and_revoke_only_their_organizations_api_keys(client, staff_admin_of_acme, alice, charlie):
    from accounts.api_keys import api_key_create
    from accounts.models import ApiKey

    ours, raw = api_key_create(organization=alice.organization, created_by=alice.user, name="LMS", scopes=["read"])
    theirs, _ = api_key_create(organization=charlie.organization, created_by=charlie.user, name="CRM",
                               scopes=["read"])
    client.force_login(staff_admin_of_acme)

    listing = client.get("/admin/accounts/apikey/").content.decode()
    assert ours.prefix in listing and theirs.prefix not in listing and raw not in listing
    client.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [ours.pk, theirs.pk]})

    assert ApiKey.objects.get(pk=ours.pk).revoked_at is not None
    assert ApiKey.objects.get(pk=theirs.pk).revoked_at is None

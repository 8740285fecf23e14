"""Sign-in is rate limited on the shared cache: failed passwords and set-password links per account and
per client address, and email-entry lookups per address. A refused attempt gets a page that says how
long to wait, with the same in Retry-After, and while refused even the right password does not sign in."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .factories import UserFactory

PASSWORD = "correct horse battery staple"  # the factory's
WINDOW = 15 * 60


@pytest.fixture(autouse=True)
def limits(settings):
    settings.SIGN_IN_WINDOW_SECONDS = WINDOW
    settings.SIGN_IN_FAILURES_PER_ACCOUNT = 10
    settings.SIGN_IN_FAILURES_PER_ADDRESS = 30
    settings.SIGN_IN_LOOKUPS_PER_ADDRESS = 60
    settings.TRUSTED_PROXY_COUNT = 0


@pytest.fixture
def ana(db):
    return UserFactory(email="ana@example.org")


def from_address(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def sign_in(client, email, password):
    return client.post("/login/password/", {"username": email, "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def assert_refused(response):
    assert response.status_code == 429
    assert WINDOW - 5 <= int(response["Retry-After"]) <= WINDOW
    assert "Wait 15 minutes, then try again." in response.content.decode()


def set_password_link(user) -> str:
    return f"/password/set/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/"


def test_forty_wrong_passwords_then_the_right_one_does_not_sign_in(ana):
    attacker = from_address("203.0.113.7")

    answers = [sign_in(attacker, "ana@example.org", f"guess {n}") for n in range(40)]
    right = sign_in(attacker, "ana@example.org", PASSWORD)

    assert all(a.status_code == 200 and b"Please enter a correct" in a.content for a in answers[:10])
    for refused in answers[10:]:
        assert_refused(refused)
    assert_refused(right)
    assert not signed_in(attacker)


def test_the_account_is_refused_from_every_address_while_it_is_limited(ana):
    for n in range(10):
        sign_in(from_address(f"203.0.113.{n}"), "ana@example.org", "guess")

    ana_herself = from_address("198.51.100.1")
    assert_refused(sign_in(ana_herself, "Ana@Example.org ", PASSWORD))
    assert not signed_in(ana_herself)


def test_one_address_trying_many_accounts_is_refused(ana):
    attacker = from_address("203.0.113.7")
    for n in range(30):
        sign_in(attacker, f"someone{n}@example.org", "guess")

    assert_refused(sign_in(attacker, "ana@example.org", PASSWORD))
    elsewhere = from_address("198.51.100.1")
    assert sign_in(elsewhere, "ana@example.org", PASSWORD).status_code == 302 and signed_in(elsewhere)


def test_signing_in_often_with_the_right_password_is_never_refused(ana):
    client = from_address("198.51.100.1")
    sign_in(client, "ana@example.org", "a typo")

    for _ in range(15):
        assert sign_in(client, "ana@example.org", PASSWORD).status_code == 302
        client.logout()


def test_wrong_set_password_links_are_limited_per_account_and_the_real_link_then_waits(ana):
    uid = urlsafe_base64_encode(force_bytes(ana.pk))
    for n in range(10):
        page = from_address(f"203.0.113.{n}").get(f"/password/set/{uid}/cxyz12-{n:032x}/")
        assert page.status_code == 200 and b"already used or has expired" in page.content

    ana_herself = from_address("198.51.100.1")
    assert_refused(ana_herself.get(set_password_link(ana)))
    assert "_password_reset_token" not in ana_herself.session


def test_one_address_trying_set_password_links_is_refused(ana):
    attacker = from_address("203.0.113.7")
    for n in range(30):
        attacker.get(f"/password/set/{urlsafe_base64_encode(force_bytes(n + 1000))}/cxyz12-{n:032x}/")

    assert_refused(attacker.get(set_password_link(ana)))


def test_a_working_set_password_link_sets_the_password_after_a_few_wrong_ones(ana):
    client = from_address("198.51.100.1")
    for n in range(5):
        client.get(f"/password/set/{urlsafe_base64_encode(force_bytes(ana.pk))}/cxyz12-{n:032x}/")

    form = client.get(set_password_link(ana), follow=True)
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "a new long passphrase",
                                                    "new_password2": "a new long passphrase"})

    assert done.status_code == 302 and done["Location"] == "/password/set/done/"
    assert sign_in(client, "ana@example.org", "a new long passphrase").status_code == 302


def test_wrong_passwords_and_wrong_links_share_the_address_budget(ana):
    attacker = from_address("203.0.113.7")
    for n in range(20):
        sign_in(attacker, f"someone{n}@example.org", "guess")
    for n in range(10):
        attacker.get(f"/password/set/{urlsafe_base64_encode(force_bytes(n + 1000))}/cxyz12-{n:032x}/")

    assert_refused(sign_in(attacker, "ana@example.org", PASSWORD))


def test_email_lookups_are_limited_per_address(db):
    prober = from_address("203.0.113.7")

    answers = [prober.post("/login/", {"identifier": f"someone@domain{n}.example"}) for n in range(61)]

    assert all(a.status_code == 302 for a in answers[:60])
    assert_refused(answers[60])
    assert from_address("198.51.100.1").post("/login/", {"identifier": "x@domain.example"}).status_code == 302

import pytest
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create

ALL_SCOPES = ("read", "write", "links", "members")


@pytest.fixture
def make_key(alice):
    def make(*scopes, organization=None, created_by=None, **kwargs):
        _, raw = api_key_create(organization=organization or alice.organization, created_by=created_by or alice.user,
                                name="test key", scopes=scopes or ALL_SCOPES, **kwargs)
        return raw

    return make


@pytest.fixture
def api(make_key):
    """A client of Acme's API with a key of every scope."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key()}")
    return client


def client_with(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client

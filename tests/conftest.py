import pytest
from django.conf import settings

from portal.celery import app as celery_app

from .factories import MembershipFactory, OrganizationFactory, UserFactory
from .gcore_api import GcoreApi
from .idp import TestIdentityProvider
from .signalwire_api import SignalWireApi
from .videosdk_api import VideoSDKApi


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit("The suite runs against PostgreSQL: set DATABASE_URL (see `make test`).", returncode=4)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True  # the test identity provider runs on loopback
    # Tasks run in-process unless a test starts a real worker (tests/test_celery_worker.py).
    celery_app.conf.task_always_eager = True


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Under pytest-xdist (`make test` runs two workers), every browser test goes to one worker: one
    Chromium at a time keeps the machine's cores for the rest, and the browser fixtures stay per module."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def idp_a():
    idp = TestIdentityProvider()
    yield idp
    idp.stop()


@pytest.fixture(scope="session")
def gcore_api():
    """A local server following Gcore's Streaming API contract (tests/gcore_api_server.py)."""
    api = GcoreApi()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def signalwire_api():
    """A local server following SignalWire's REST contract (tests/signalwire_api_server.py)."""
    api = SignalWireApi()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def videosdk_api():
    """A local server following VideoSDK's REST, webhook and SDK-connection contracts
    (tests/videosdk_api_server.py)."""
    api = VideoSDKApi()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def idp_b():
    idp = TestIdentityProvider()
    yield idp
    idp.stop()


@pytest.fixture
def alice(db):
    """Owner of Acme."""
    return MembershipFactory(user=UserFactory(email="alice@acme.test"), role="owner",
                             organization=OrganizationFactory(name="Acme", slug="acme"))


@pytest.fixture
def acme(alice):
    return alice.organization


@pytest.fixture
def as_alice(client, alice):
    """The test client, signed in as Alice, Acme's owner."""
    client.force_login(alice.user)
    return client


@pytest.fixture
def bob(acme):
    """A plain member of Acme."""
    return MembershipFactory(user=UserFactory(email="bob@acme.test"), organization=acme, role="member")


@pytest.fixture
def charlie(db):
    """Owner of Globex, an outsider to Acme."""
    return MembershipFactory(user=UserFactory(email="charlie@globex.test"), role="owner",
                             organization=OrganizationFactory(name="Globex", slug="globex"))

"""schemathesis against the schema the portal serves, through a real server: a bounded number of
generated requests per operation, made with an API key of every scope. No answer may be a 5xx, and
every answer the schema describes must match it."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from accounts.api_keys import api_key_create

from ..factories import InvitationFactory, MeetingFactory

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLES_PER_OPERATION = 8


@pytest.fixture
def served_schema(live_server, alice):
    meeting = MeetingFactory(organization=alice.organization, owner=alice.user)
    InvitationFactory(meeting=meeting)
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema?format=json")


@pytest.fixture
def bearer(alice):
    _, raw = api_key_create(organization=alice.organization, created_by=alice.user, name="schemathesis",
                            scopes=["read", "write", "links", "members"])
    return {"Authorization": f"Bearer {raw}"}


def test_no_operation_answers_a_server_error_or_breaks_the_schema(served_schema, bearer, live_server, settings):
    settings.API_REQUESTS_PER_MINUTE = 100_000  # the walk is not what the rate limit is for
    operations = [result.ok() for result in served_schema.get_all_operations()]
    assert len(operations) > 25

    for operation in operations:
        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(HealthCheck))
        def requests_to(case):
            case.call_and_validate(base_url=live_server.url, headers=bearer,
                                   checks=[not_a_server_error, response_schema_conformance, content_type_conformance])

        requests_to()

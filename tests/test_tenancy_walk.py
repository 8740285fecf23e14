"""Walk every URL pattern as a member of another organization: each must answer 404.

New routes are covered automatically. A route with an organization in its path must hide another
organization's objects; a route without one must be listed in NOT_ORGANIZATION_SCOPED with the
reason it is safe. A URL parameter this walk cannot fill fails the test until a filler is added.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import ApiKey
from meetings.models import Recording

from .factories import InvitationFactory, MeetingFactory, MembershipFactory, ProviderAccountFactory

NOT_ORGANIZATION_SCOPED = {
    "home": "redirects to one of the signed-in person's own organizations",
    "login": "public sign-in page",
    "password_login": "public sign-in page",
    "logout": "ends the caller's own session",
    "oidc_authentication_init": "public: starts sign-in at the organization's identity provider",
    "oidc_authentication_callback": "public: finishes sign-in; checks state bound to the session",
    "password_reset_confirm": "guarded by a signed single-use token",
    "password_reset_complete": "static confirmation page",
    "profile": "the signed-in person's own profile",
    "profile_timezone": "saves the signed-in person's own time zone",
    "membership_invite": "guarded by the invitation's secret token, accepted only as the invited account",
    "join": "guarded by the personal link's secret token",
    "join_opened": "guarded by the personal link's secret token",
    "join_room": "guarded by the link's token and the join session's secret cookie",
    "join_room_state": "guarded by the link's token and the join session's secret cookie",
    "join_leave": "guarded by the link's token and the join session's secret cookie",
    "join_room_bridge": "guarded by the link's token and the join session's secret cookie",
    "join_room_token": "guarded by the link's token and the join session's secret cookie",
    "jitsi_frame": "a static document with no secret and no session, answered only on JITSI_FRAME_ORIGIN's host",
    "calendar_feed": "guarded by the feed's secret token",
    "calendar_settings": "the signed-in person's own calendar address",
    "gcore_access_check": "called by Gcore's server, authenticated by the account's registered header",
    "gcore_event": "called by Gcore's server, authenticated by the account's registered header",
    "gcore_event_named": "called by Gcore's server, authenticated by the account's registered header",
    "videosdk_event": "called by VideoSDK's servers, authenticated by its RSA signature; this account's rooms only",
    "livekit_event": "called by LiveKit's servers, authenticated by the JWT it signs with the account's secret "
                     "over the body's hash; this account's rooms only",
    "livekit_moderate": "guarded by the link's token and the join session's secret cookie; moderators of that "
                        "meeting only, people of that meeting only",
    "recording_start": "guarded by the link's token and the join session's secret cookie",
    "recording_status": "guarded by the link's token and the join session's secret cookie",
    "recording_chunk": "guarded by the link's token and the join session's secret cookie",
    "recording_finish": "guarded by the link's token and the join session's secret cookie",
    "recording_shared": "guarded by the recording's secret link token, only while the host shares it so",
    "invitee_recording": "guarded by the personal link's secret token; only recordings shown to invitees",
    "recording_media": "guarded by a signature a watch page issues after checking access; expires",
    "api_schema": "the API's public OpenAPI schema: no data",
    "api_docs": "the API's public reference page: no data",
    "set_language": "the language switcher: the caller's own cookie and, signed in, their own setting",
}
# The REST API names no organization in its paths: the caller's key (or session) is scoped to one,
# and tests/api/test_api_walk.py walks these routes with another organization's codes.
API_PREFIX = "api/v1/"
# Django admin scopes by organization itself: see tests/test_admin.py.
SEPARATELY_TESTED_PREFIXES = ("admin/",)


def walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


ROUTES = [(route, entry) for route, entry in walk(get_resolver().url_patterns)
          if not route.startswith(SEPARATELY_TESTED_PREFIXES)]
SCOPED = [(route, entry) for route, entry in ROUTES if "<slug:org_slug>" in route]


def fill(route: str, values: dict) -> str:
    for name, value in values.items():
        route = route.replace(f"<str:{name}>", value).replace(f"<slug:{name}>", value)
    assert "<" not in route, f"add a filler for the parameters of {route} in tests/test_tenancy_walk.py"
    return "/" + route


def webhook_codes(organization) -> dict:
    """A webhook endpoint of the organization with one delivery, by their codes."""
    from meetings.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(organization=organization, url="https://hooks.example.com/portal",
                                              events=["meeting.scheduled"])
    delivery = WebhookDelivery.objects.create(organization=organization, endpoint=endpoint,
                                              event_type="meeting.scheduled", body="{}")
    return {"endpoint_code": endpoint.code, "delivery_code": delivery.code}


@pytest.fixture
def foreign(charlie):
    """Globex's objects, one of each kind, addressed by their public codes."""
    other = MembershipFactory(organization=charlie.organization, role="host")
    meeting = MeetingFactory(organization=charlie.organization, owner=charlie.user)
    invitation = InvitationFactory(meeting=meeting)
    return {**webhook_codes(charlie.organization),
            "member_code": other.code, "meeting_code": meeting.code, "room_code": meeting.room.code,
            "occurrence_code": meeting.occurrences.first().code, "invitation_code": invitation.code,
            "recording_code": Recording.objects.create(organization=charlie.organization, meeting=meeting,
                                                       status="ready").code,
            "account_code": ProviderAccountFactory(organization=charlie.organization).code,
            "key_code": ApiKey.objects.create(organization=charlie.organization, created_by=charlie.user, name="k",
                                              prefix="mpk_foreign1", secret_hash="0" * 64, scopes=["read"]).code}


def test_every_route_is_organization_scoped_or_listed():
    unlisted = [route for route, entry in ROUTES if "<slug:org_slug>" not in route
                and entry.name not in NOT_ORGANIZATION_SCOPED and not route.startswith(API_PREFIX)]
    assert unlisted == [], "scope these routes by organization or list them with a reason"


@pytest.mark.parametrize("route", [route for route, _ in SCOPED])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_organizations_pages_answer_404(client, alice, foreign, charlie, route, method):
    client.force_login(alice.user)
    url = fill(route, {"org_slug": charlie.organization.slug, **foreign})

    assert getattr(client, method)(url).status_code == 404


@pytest.mark.parametrize("route", [route for route, _ in SCOPED if route.count("<") > 1])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_organizations_objects_answer_404_under_ones_own_organization(
        client, alice, foreign, route, method):
    client.force_login(alice.user)
    url = fill(route, {"org_slug": alice.organization.slug, **foreign})
    # Alice may manage every meeting of her own organization, so only foreign objects are hidden from her.

    assert getattr(client, method)(url).status_code == 404

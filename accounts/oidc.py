"""Per-organization OpenID Connect sign-in on top of mozilla-django-oidc.

The library is written for one identity provider configured in settings. Here each organization has
its own (accounts.IdentityProvider): the start view remembers which one in the session, and the
callback, the backend, the session refresh and sign-out read it from there.

Beyond the library's checks (state, nonce, PKCE) the ID token's issuer, audience, expiry and RS256
signature against the provider's JWKS are verified here: the library leaves audience unchecked.
"""

import base64
import hashlib
import hmac
import logging
import secrets
import time
from urllib.parse import urlencode

import jwt
from django.conf import settings
from django.contrib import auth
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.middleware import SessionRefresh
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from portal import http
from portal.site import absolute_reverse

from .models import IdentityProvider
from .services import SignInRefused, oidc_sign_in

logger = logging.getLogger(__name__)

SESSION_IDP = "oidc_identity_provider"
SESSION_ACTIVE_ORG = "active_organization"
ALGORITHMS = ["RS256"]


# --- Talking to the identity provider -------------------------------------------------------------

def _fetch_json(url: str, what: str) -> dict:
    response = http.get(url, headers={"Accept": "application/json"})
    if response.status_code != 200:
        raise http.OutboundError(f"{what} answered HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise http.OutboundError(f"{what} did not answer JSON") from None


def discover(issuer: str, *, refresh: bool = False) -> dict:
    """The provider's discovery document, cached; its issuer must be exactly the configured one."""
    key = f"oidc:discovery:{issuer}"
    if not refresh and (document := cache.get(key)):
        return document
    document = _fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery")
    if document.get("issuer") != issuer:
        raise http.OutboundError(f"discovery names issuer {document.get('issuer')!r}, not {issuer!r}")
    for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not document.get(field):
            raise http.OutboundError(f"discovery has no {field}")
    cache.set(key, document, settings.OIDC_DISCOVERY_CACHE_SECONDS)
    return document


def signing_key(identity_provider: IdentityProvider, token: str):
    """The JWKS key that signed this token. Keys rotate, so an unknown kid re-reads the JWKS once."""
    header = jwt.get_unverified_header(token)
    jwks_uri = discover(identity_provider.issuer)["jwks_uri"]
    cache_key = f"oidc:jwks:{jwks_uri}"
    for refresh in (False, True):
        jwks = None if refresh else cache.get(cache_key)
        if jwks is None:
            jwks = _fetch_json(jwks_uri, "JWKS")
            cache.set(cache_key, jwks, settings.OIDC_DISCOVERY_CACHE_SECONDS)
        for candidate in jwks.get("keys", []):
            if candidate.get("kid") == header.get("kid") and candidate.get("alg", header["alg"]) == header["alg"]:
                return jwt.PyJWK(candidate).key
    raise SignInRefused(_("The sign-in token was signed with a key your identity provider does not publish."))


def identity_provider_in_session(request) -> IdentityProvider | None:
    idp_id = request.session.get(SESSION_IDP)
    if idp_id is None:
        return None
    return (IdentityProvider.objects.select_related("organization")
            .filter(pk=idp_id, enabled=True).first())


# --- The authentication backend ------------------------------------------------------------------

class OrganizationOIDCBackend(OIDCAuthenticationBackend):
    def __init__(self, *args, **kwargs):
        # The library reads one provider from settings here; ours is chosen per request.
        self.UserModel = auth.get_user_model()

    def authenticate(self, request, **kwargs):
        if request is None or "code" not in request.GET:
            return None
        self.identity_provider = identity_provider_in_session(request)
        if self.identity_provider is None:
            request.oidc_failure = _("Your sign-in took too long or was started elsewhere. Please start again.")
            return None
        self.OIDC_RP_CLIENT_ID = self.identity_provider.client_id
        self.OIDC_RP_CLIENT_SECRET = self.identity_provider.client_secret
        self.OIDC_RP_SIGN_ALGO = ALGORITHMS[0]
        try:
            endpoints = discover(self.identity_provider.issuer)
            self.OIDC_OP_TOKEN_ENDPOINT = endpoints["token_endpoint"]
            self.OIDC_OP_USER_ENDPOINT = endpoints.get("userinfo_endpoint")
            return super().authenticate(request, **kwargs)
        except SignInRefused as refusal:
            request.oidc_failure = str(refusal)
        except http.OutboundError as error:
            logger.warning("OIDC sign-in for %s failed: %s", self.identity_provider.organization.slug, error)
            request.oidc_failure = _("The portal could not reach your identity provider. Try again in a moment.")
        return None

    def get_token(self, payload):
        payload = {**payload, "redirect_uri": callback_url()}  # as sent with the authorization request
        response = http.post(self.OIDC_OP_TOKEN_ENDPOINT, data=payload, headers={"Accept": "application/json"})
        if response.status_code != 200:
            logger.info("token endpoint refused the code: HTTP %s", response.status_code)
            raise SignInRefused(_("Your identity provider refused this sign-in (the code was already used "
                                  "or has expired). Please sign in again."))
        return response.json()

    def verify_token(self, token, **kwargs):
        if not token:
            raise SignInRefused(_("Your identity provider sent no ID token."))
        try:
            if jwt.get_unverified_header(token).get("alg") not in ALGORITHMS:
                raise SignInRefused(_("The sign-in token uses an algorithm the portal does not accept."))
            claims = jwt.decode(
                token,
                signing_key(self.identity_provider, token),
                algorithms=ALGORITHMS,
                audience=self.identity_provider.client_id,
                issuer=self.identity_provider.issuer,
                leeway=settings.OIDC_CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise SignInRefused(_("The sign-in token has expired. Please sign in again.")) from None
        except jwt.InvalidAudienceError:
            raise SignInRefused(_("The sign-in token was issued for another application.")) from None
        except jwt.InvalidIssuerError:
            raise SignInRefused(_("The sign-in token comes from another identity provider.")) from None
        except jwt.InvalidTokenError as error:
            raise SignInRefused(_("The sign-in token is not valid (%(error)s).") % {"error": error}) from None
        if claims.get("nonce") != kwargs.get("nonce"):
            raise SignInRefused(_("The sign-in token does not belong to this sign-in attempt."))
        return claims

    def get_userinfo(self, access_token, id_token, payload):
        if not self.OIDC_OP_USER_ENDPOINT or not access_token:
            return {}
        response = http.get(self.OIDC_OP_USER_ENDPOINT, headers={"Authorization": f"Bearer {access_token}"})
        if response.status_code != 200:
            return {}
        userinfo = response.json()
        if userinfo.get("sub") != payload["sub"]:
            raise SignInRefused(_("Your identity provider described a different person than it signed in."))
        return userinfo

    def get_or_create_user(self, access_token, id_token, payload):
        # The ID token's claims win over userinfo's; userinfo may add groups, names and the like.
        claims = {**self.get_userinfo(access_token, id_token, payload), **payload}
        user, membership = oidc_sign_in(identity_provider=self.identity_provider, claims=claims)
        self.request.session[SESSION_ACTIVE_ORG] = membership.organization.slug
        return user


# --- Views ---------------------------------------------------------------------------------------

class OrganizationOIDCStartView(OIDCAuthenticationRequestView):
    """GET /oidc/<slug>/authenticate/: send the person to their organization's identity provider."""

    def __init__(self, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(**kwargs)

    def get_settings(self, attr, *args):
        if attr == "OIDC_RP_SCOPES":
            return self.identity_provider.scopes
        return super().get_settings(attr, *args)

    def get(self, request, slug):
        self.identity_provider = (IdentityProvider.objects.select_related("organization")
                                  .filter(organization__slug=slug, enabled=True).first())
        if self.identity_provider is None:
            raise Http404(_("This organization does not sign in through an identity provider."))
        try:
            self.OIDC_OP_AUTH_ENDPOINT = discover(self.identity_provider.issuer)["authorization_endpoint"]
        except http.OutboundError as error:
            logger.warning("discovery for %s failed: %s", slug, error)
            return sign_in_failed(request, _("The portal could not reach your identity provider. "
                                             "Try again in a moment."), status=502)
        self.OIDC_RP_CLIENT_ID = self.identity_provider.client_id
        request.session[SESSION_IDP] = self.identity_provider.pk
        return super().get(request)

    def get_extra_params(self, request):
        # The callback address registered at the identity provider: SITE_URL's, not the request's Host.
        params = {"redirect_uri": callback_url()}
        if request.GET.get("prompt") == "none":
            params["prompt"] = "none"
        return params


class OrganizationOIDCCallbackView(OIDCAuthenticationCallbackView):
    """GET /oidc/callback/: the identity provider sends the person back here."""

    def get(self, request):
        if is_test_callback(request):
            return finish_test_sign_in(request)
        try:
            return super().get(request)
        except SuspiciousOperation:
            return sign_in_failed(request, _("This sign-in link is not valid (it was altered, already used, "
                                             "or belongs to another browser). Please sign in again."), status=400)

    def login_failure(self):
        reason = getattr(self.request, "oidc_failure", None)
        if reason is None and self.request.GET.get("error"):
            reason = _("Your identity provider did not sign you in. Please sign in again.")
        return sign_in_failed(self.request, reason or _("This sign-in was not started in this browser, or it "
                                                        "has expired. Please sign in again."), status=403)

    def login_success(self):
        # auth.login() flushes the session when another user was signed in; keep what sign-in stored.
        session = self.request.session
        kept = {key: session[key] for key in (SESSION_IDP, SESSION_ACTIVE_ORG, "oidc_id_token", "oidc_login_next")
                if key in session}
        if not self.request.user.is_authenticated or self.request.user != self.user:
            auth.login(self.request, self.user)
        self.request.session.update(kept)
        self.request.session["oidc_id_token_expiration"] = time.time() + settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS
        return HttpResponseRedirect(self.success_url)

    @property
    def success_url(self):
        next_url = self.request.session.get("oidc_login_next")
        if next_url:
            return next_url
        slug = self.request.session.get(SESSION_ACTIVE_ORG)
        return reverse("organization_home", args=[slug]) if slug else reverse("home")


def sign_in_failed(request, reason: str, *, status: int):
    return render(request, "accounts/sign_in_failed.html", {"reason": reason}, status=status)


def logout_view(request):
    """POST /logout/: end the portal session, then the identity provider's where it offers that."""
    if request.method != "POST":
        return render(request, "accounts/logout_confirm.html")
    redirect_to = reverse("login")
    identity_provider = identity_provider_in_session(request)
    id_token = request.session.get("oidc_id_token")
    if identity_provider is not None and request.user.is_authenticated:
        try:
            end_session = discover(identity_provider.issuer).get("end_session_endpoint")
        except http.OutboundError:
            end_session = None
        if end_session:
            params = {"client_id": identity_provider.client_id,
                      "post_logout_redirect_uri": absolute_reverse("login")}
            if id_token:
                params["id_token_hint"] = id_token
            redirect_to = f"{end_session}?{urlencode(params)}"
    auth.logout(request)
    return HttpResponseRedirect(redirect_to)


# --- Session refresh -----------------------------------------------------------------------------

class OrganizationSessionRefresh(SessionRefresh):
    """Re-check the person with their identity provider (prompt=none) when the ID token's time is up,
    so someone disabled at the provider loses access here too."""

    def __init__(self, get_response):
        super(SessionRefresh, self).__init__(get_response)
        self.OIDC_EXEMPT_URLS = settings.OIDC_EXEMPT_URLS

    @cached_property
    def exempt_urls(self):
        return {reverse(name) for name in self.OIDC_EXEMPT_URLS}

    def process_request(self, request):
        if request.path.startswith(("/oidc/", "/" + settings.STATIC_URL.lstrip("/"))):
            return None
        if not self.is_refreshable_url(request):
            return None
        identity_provider = identity_provider_in_session(request)
        if identity_provider is None:
            return None
        if request.session.get("oidc_id_token_expiration", 0) > time.time():
            return None
        next_path = request.get_full_path()
        if not url_has_allowed_host_and_scheme(next_path, allowed_hosts=None):
            next_path = "/"
        refresh_url = (reverse("oidc_authentication_init", args=[identity_provider.organization.slug])
                       + "?" + urlencode({"prompt": "none", "next": next_path}))
        if request.headers.get("x-requested-with") == "XMLHttpRequest":
            return JsonResponse({"refresh_url": refresh_url}, status=403)
        return HttpResponseRedirect(refresh_url)


# --- Owners test their settings ------------------------------------------------------------------
#
# "Test sign-in" runs the whole round trip with the organization's saved settings and shows the owner
# what came back, without signing anyone in. Its state, nonce and PKCE verifier live under their own
# session key, bound to the owner who started it, and are used once: the library's callback never
# sees them (its states are in "oidc_states"), so a test's code cannot sign anyone in, and a real
# sign-in's state is not a test's.

SESSION_TEST = "oidc_test_sign_in"
TEST_SECONDS = 600


def callback_url() -> str:
    """The address to register at the identity provider, from the portal's one SITE_URL."""
    return absolute_reverse("oidc_authentication_callback")


def start_test_sign_in(request, identity_provider: IdentityProvider) -> str:
    """Remember the attempt in the owner's session; the identity provider's authorization URL."""
    endpoint = discover(identity_provider.issuer, refresh=True)["authorization_endpoint"]
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    request.session[SESSION_TEST] = {"state": state, "nonce": nonce, "verifier": verifier,
                                     "idp": identity_provider.pk, "user": request.user.pk, "at": time.time()}
    params = {"response_type": "code", "client_id": identity_provider.client_id, "redirect_uri": callback_url(),
              "scope": identity_provider.scopes, "state": state, "nonce": nonce, "code_challenge": challenge,
              "code_challenge_method": "S256", "prompt": "login"}
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"


def is_test_callback(request) -> bool:
    attempt = request.session.get(SESSION_TEST)
    state = request.GET.get("state", "")
    return bool(attempt) and isinstance(state, str) and hmac.compare_digest(state.encode(), attempt["state"].encode())


def finish_test_sign_in(request):
    """The identity provider sent the owner back from a test: show what it said, sign nobody in."""
    from .models import Membership
    from .services import describe_oidc_sign_in

    attempt = request.session.pop(SESSION_TEST)
    identity_provider = (IdentityProvider.objects.select_related("organization").filter(pk=attempt["idp"]).first())
    owner = (identity_provider is not None and request.user.is_authenticated and request.user.pk == attempt["user"]
             and Membership.objects.of(identity_provider.organization)
             .filter(user=request.user, role=Membership.Role.OWNER).exists())
    if not owner:
        return sign_in_failed(request, _("This test sign-in was started by someone else, or you are no longer an "
                                         "owner of the organization. Start the test again."), status=403)
    context = {"identity_provider": identity_provider, "organization": identity_provider.organization}
    if time.time() - attempt["at"] > TEST_SECONDS:
        return _test_result(request, context, _("The test took longer than ten minutes. Start it again."))
    if request.GET.get("error"):
        return _test_result(request, context, _("The identity provider answered with an error: %(error)s %(text)s") % {
            "error": request.GET["error"][:100], "text": request.GET.get("error_description", "")[:300]})
    backend = OrganizationOIDCBackend()
    backend.identity_provider = identity_provider
    backend.OIDC_RP_CLIENT_ID = identity_provider.client_id
    try:
        endpoints = discover(identity_provider.issuer)
        backend.OIDC_OP_USER_ENDPOINT = endpoints.get("userinfo_endpoint")
        response = http.post(endpoints["token_endpoint"], headers={"Accept": "application/json"}, data={
            "grant_type": "authorization_code", "code": request.GET.get("code", "")[:2000],
            "redirect_uri": callback_url(), "client_id": identity_provider.client_id,
            "client_secret": identity_provider.client_secret, "code_verifier": attempt["verifier"]})
        if response.status_code != 200:
            return _test_result(request, context, _(
                "The token endpoint refused the code: HTTP %(status)s %(body)s. Check the client id and secret.")
                % {"status": response.status_code, "body": response.text[:300]})
        tokens = response.json()
        claims = backend.verify_token(tokens.get("id_token"), nonce=attempt["nonce"])
        claims = {**backend.get_userinfo(tokens.get("access_token"), tokens.get("id_token"), claims), **claims}
    except SignInRefused as refusal:
        return _test_result(request, context, str(refusal))
    except (http.OutboundError, ValueError) as error:
        return _test_result(request, context, _("The portal could not talk to the identity provider: %(error)s")
                            % {"error": error})
    return _test_result(request, context, None, describe_oidc_sign_in(identity_provider=identity_provider,
                                                                      claims=claims))


def _test_result(request, context, error, outcome=None):
    return render(request, "accounts/identity_provider_test.html", {**context, "error": error, "outcome": outcome},
                  status=200 if error is None else 400)

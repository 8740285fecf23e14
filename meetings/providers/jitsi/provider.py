"""Self-hosted Jitsi Meet behind the provider interface.

Jitsi has no server REST API: the portal's part is one JWT per join, which Prosody's token
authentication checks (header typ JWT, alg HS256 with the app secret or RS256 with a `kid`; `iss` the
app id, `aud`, `sub` the domain, `room` bare and lowercase, `exp`/`nbf` as numbers checked without
leeway, `context.user` and `context.features`). Rooms need no creation: a meeting's room is
`portal` + its stable id. Stock Jitsi makes every token holder a moderator; only a server running
mod_token_affiliation reads `context.user.affiliation` (owner/member) and `moderator` (true) to tell
hosts from everyone else.

The room page runs Jitsi's IFrame API (https://<domain>/external_api.js) inside a frame served by
the operator's JITSI_FRAME_ORIGIN, another site than the portal (frame.py, views.py), never in the
portal's own origin; without that setting Jitsi rooms answer 503. Removing someone ends their portal
stay (their page then hangs up); there is nothing at Jitsi to call.
"""

import re
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import jwt
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.validators import public_hostname_problem

from ...models import Kind, Meeting, Role
from ..base import Capabilities, Check, JoinTicket, Provider, ProviderError
from ..signing import rsa_private_key_problem, signing_key
from .frame import frame_origin, frame_url, setting_problem

ROOM_NAME = re.compile(r"^portal([0-9a-f]{32})$")
DEFAULT_AUDIENCE = "jitsi"
MIN_SECRET_BYTES = 32
KEY_ID = re.compile(r"^[A-Za-z0-9._/:-]{1,200}$")
MODERATOR_NOTE = gettext_lazy(
    "Stock Jitsi makes everyone who holds a valid token a moderator. Hosts and moderators are told apart only "
    "when your Jitsi server runs the token affiliation plugin (mod_token_affiliation, with jicofo's auto-owner "
    "off for the older contrib plugin); the portal's tokens carry context.user.affiliation owner or member and "
    "moderator true or false for it.")


class FrameOriginMissing(ProviderError):
    """JITSI_FRAME_ORIGIN is unset or unusable: no Jitsi room can open on this portal."""

    def __init__(self, problem: str):
        super().__init__(problem, permanent=True)
        self.page_message = problem + " Your link stays valid."


def room_name(meeting) -> str:
    """Bare and lowercase, as Jitsi compares room names: `portal` + the meeting's stable id."""
    return f"portal{meeting.ical_uid.split('@')[0].replace('-', '').lower()}"


def meeting_uid_of(name: str) -> str | None:
    match = ROOM_NAME.match(name)
    return f"{uuid.UUID(match.group(1))}@meeting-portal" if match else None


def window(invitation, occurrence) -> tuple[datetime, datetime]:
    """When this person may be in the room: from the sitting's joining window (or the invitation's own
    start when later) to the sitting's end plus grace (or the invitation's own end when sooner)."""
    opens = occurrence.start - timedelta(minutes=settings.JOIN_OPENS_MINUTES_BEFORE)
    if invitation.valid_from is not None:
        opens = max(opens, invitation.valid_from)
    ends = occurrence.end + timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER)
    if invitation.valid_until is not None:
        ends = min(ends, invitation.valid_until)
    return opens, ends


def features_for(meeting, invitation) -> dict[str, bool]:
    """context.features: recording and streaming for moderators of meetings that allow recording;
    screen sharing for everyone who sends media."""
    moderating = invitation.is_moderating
    watcher = meeting.kind == Kind.WEBINAR and invitation.is_watcher
    recording = moderating and meeting.recording_allowed
    return {"recording": recording, "livestreaming": recording, "transcription": recording,
            "screen-sharing": not watcher and invitation.role != Role.INTERPRETER,
            "outbound-call": False, "sip-outbound-call": False}


def claims_for(account, *, meeting, invitation, now: datetime, opens: datetime, ends: datetime) -> dict:
    moderator = invitation.is_moderating
    email = invitation.email or (invitation.user.email if invitation.user_id else "") or ""
    user = {"id": str(invitation.peer_id), "name": str(invitation.display_name or ""), "email": str(email),
            "avatar": "", "moderator": moderator, "affiliation": "owner" if moderator else "member"}
    return {"iss": account.api_key, "aud": account.jwt_audience or DEFAULT_AUDIENCE, "sub": account.meet_domain,
            "room": room_name(meeting), "nbf": int(opens.timestamp()), "exp": int(ends.timestamp()),
            "iat": int(now.timestamp()), "moderator": moderator,
            "context": {"user": user, "features": features_for(meeting, invitation)}}


def mint(account, claims: dict) -> str:
    headers = {"typ": "JWT"}
    if account.jwt_algorithm == "RS256":
        headers["kid"] = account.key_id
        key = signing_key(account)  # the RSA private key, parsed once per process
    else:
        key = account.api_secret
    return jwt.encode(claims, key, algorithm=account.jwt_algorithm, headers=headers)


class JitsiProvider(Provider):
    key = "jitsi"
    name = gettext_lazy("Jitsi Meet (self-hosted)")
    # No REST API: nothing to remove, close, count or sync at Jitsi. Webinars are not offered: a
    # Jitsi token cannot forbid a viewer to send media.
    capabilities = Capabilities(recording=True)
    urls_module = "meetings.providers.jitsi.urls"
    settings_fields = ("recording_allowed",)
    account_fields = ("meet_domain", "api_key", "jwt_algorithm", "key_id", "jwt_audience", "jwt_public_key")
    secret_fields = ("api_secret", "jwt_private_key")
    join_modes = ()

    @classmethod
    def deploy_problems(cls) -> list[str]:
        """JITSI_FRAME_ORIGIN given but unusable (not https, not a bare origin, on the portal's own
        site); empty is fine: the portal then has no Jitsi rooms."""
        if not (settings.JITSI_FRAME_ORIGIN or "").strip():
            return []
        problem = setting_problem()
        return [problem] if problem else []

    def account_problems(self, values: dict) -> dict[str, str]:
        problems = {}
        domain = (values.get("meet_domain") or "").strip().lower()
        if problem := public_hostname_problem(domain):
            problems["meet_domain"] = problem
        app_id = values.get("api_key") or ""
        if not app_id:
            problems["api_key"] = _("Enter the app id your Jitsi server's token authentication uses (app_id).")
        algorithm = values.get("jwt_algorithm") or "HS256"
        secret = values.get("api_secret") or ""
        private_key = values.get("jwt_private_key") or ""
        if algorithm == "HS256":
            if not secret:
                problems["api_secret"] = " ".join((
                    _("Enter the app secret (app_secret) your Jitsi server checks tokens with."), str(MODERATOR_NOTE)))
            elif len(secret.encode()) < MIN_SECRET_BYTES:
                problems["api_secret"] = _("The app secret has %(bytes)d bytes; HS256 needs %(minimum)d or more.") % {
                    "bytes": len(secret.encode()), "minimum": MIN_SECRET_BYTES}
        elif algorithm == "RS256":
            if not private_key:
                problems["jwt_private_key"] = _("RS256 signs with an RSA private key: generate or paste one.")
            elif problem := rsa_private_key_problem(private_key, needed_by="Jitsi"):
                problems["jwt_private_key"] = problem
            if not KEY_ID.match(values.get("key_id") or ""):
                problems["key_id"] = _("RS256 needs the key id (kid) your server finds the public key by: "
                                       "letters, digits and . _ / : - only.")
        else:
            problems["jwt_algorithm"] = _("Jitsi accepts HS256 or RS256.")
        return problems

    def domain(self) -> str:
        domain = self.account.meet_domain
        if public_hostname_problem(domain):  # checked on save; checked again before any page uses it
            raise ProviderError(f"The Jitsi account {self.account.name!r} has an invalid domain.", permanent=True)
        return domain

    def base_url(self) -> str:
        """https://<domain>; JITSI_BASE_URL (tests only) points at a local stand-in instead."""
        return settings.JITSI_BASE_URL.rstrip("/") or f"https://{self.domain()}"

    def join(self, *, meeting, occurrence, invitation, session) -> JoinTicket:
        origin = frame_origin()
        if not origin:  # never fall back to running the organization's script in the portal's origin
            raise FrameOriginMissing(setting_problem())
        problems = self.account_problems({f: getattr(self.account, f) for f in (
            "meet_domain", "api_key", "jwt_algorithm", "api_secret", "jwt_private_key", "key_id")})
        if problems:
            raise ProviderError(f"The Jitsi account {self.account.name!r} is incomplete: {', '.join(problems)}.",
                                permanent=True)
        now = timezone.now()
        opens, ends = window(invitation, occurrence)
        if now >= ends:
            raise ProviderError("This person's time in the meeting is over.", permanent=True)
        token = mint(self.account, claims_for(self.account, meeting=meeting, invitation=invitation, now=now,
                                              opens=opens, ends=ends))
        base = self.base_url()
        api_domain = urlsplit(base).netloc  # the account's domain (the stand-in's host with JITSI_BASE_URL)
        return JoinTicket(kind="sdk", sdk="jitsi", token=token, expires_at=ends, options={
            "room": room_name(meeting), "domain": self.domain(), "base": base,
            "frame": frame_url(origin, domain=api_domain, room=room_name(meeting)), "frame_origin": origin,
            "moderator": invitation.is_moderating,
            "audio_only": invitation.role == Role.INTERPRETER})

    def remove_participant(self, *, meeting, invitation) -> bool:
        """Jitsi has no server API to disconnect someone. The portal has already ended the person's
        stay: their room page sees it and hangs up, and they get no new token."""
        return False

    def end_room(self, *, meeting, occurrence) -> bool:
        """Nothing to call at Jitsi: every room page sees the meeting ended and hangs up."""
        return False

    def meeting_for_room(self, name: str):
        uid = meeting_uid_of(name)
        return Meeting.objects.of(self.account.organization).filter(ical_uid=uid).first() if uid else None

    def check_connection(self) -> list[Check]:
        """Jitsi has no API to ask: sign a token the way joins do, say whether the operator set the frame
        origin rooms need, and what decides moderators."""
        now = int(timezone.now().timestamp())
        claims = {"iss": self.account.api_key, "aud": self.account.jwt_audience or DEFAULT_AUDIENCE,
                  "sub": self.account.meet_domain, "room": "*", "nbf": now, "exp": now + 60}
        try:
            mint(self.account, claims)
            signing = Check(_("Token signing"), True, _("Signed a %(algorithm)s token for %(domain)s.") % {
                "algorithm": self.account.jwt_algorithm, "domain": self.account.meet_domain})
        except (ValueError, TypeError, jwt.PyJWTError) as error:
            signing = Check(_("Token signing"), False, _("No token could be signed: %(error)s.") % {
                "error": type(error).__name__})
        problem = setting_problem()
        frame = Check(_("Frame origin"), not problem, problem or _(
            "Rooms run Jitsi's script in %(origin)s, away from the portal's origin.") % {"origin": frame_origin()})
        return [signing, frame, Check(_("Moderators"), True, str(MODERATOR_NOTE))]

"""VideoSDK behind the provider interface.

A meeting has one VideoSDK room, made on the first join with POST /v2/rooms. The room's customRoomId
is the meeting's stable id, and VideoSDK answers the room it already has for a customRoomId, so a
retried or concurrent creation never makes a second room; ProviderRoom's unique key and a lock on the
meeting row settle concurrent first joins inside the portal. The room's webhook (when the portal has
an HTTPS address) points at this account's events URL. Joins check the room with
GET /v2/rooms/validate/{roomId} (at most once a minute per room), and each gets its own HS256 token
(tokens.py) with the role's permissions; the room page hands it to @videosdk.live/js-sdk.

VideoSDK's tokens carry no media rights (nothing keeps a webinar viewer or an interpreter to what
their role allows), so this provider holds calls only, and its rooms have no interpretation.
"""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portal.site import absolute_reverse

from ...models import Meeting, ProviderRoom
from ..base import (
    Capabilities,
    Check,
    JoinTicket,
    ParsedEvent,
    Provider,
    ProviderError,
    ProviderRecording,
    SittingReport,
)
from . import reports, tokens, webhooks
from .api import VideoSDKClient

ROOM_ID = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)+$")  # VideoSDK's ids look like abcd-efgh-ijkl
# The SDK asks this host for its server configuration first (its own default); the room page's
# policy lets it reach VideoSDK's hosts, and VIDEOSDK_SIGNALING_HOST when one is set.
SDK_API_HOST = "api.videosdk.live"
SDK_ORIGINS = ("https://*.videosdk.live", "wss://*.videosdk.live")
VALIDATION_SECONDS = 60


def custom_room_id(meeting) -> str:
    return f"portal-{meeting.ical_uid.split('@')[0].replace('-', '')}"


def stay_ends(invitation, occurrence) -> datetime:
    """When this person's right to be in the room ends: the sitting's end plus grace, or the
    invitation's own end when that comes first."""
    end = occurrence.end + timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER)
    return min(end, invitation.valid_until) if invitation.valid_until else end


class VideoSDKProvider(Provider):
    key = "videosdk"
    name = "VideoSDK"
    urls_module = "meetings.providers.videosdk.urls"
    capabilities = Capabilities(waiting_room=True, recording=True, remove_participant=True, statistics=True,
                                webhooks=True)
    settings_fields = ("waiting_room", "recording_allowed")
    account_fields = ("api_key",)
    secret_fields = ("api_secret",)

    def __init__(self, account=None):
        super().__init__(account)
        self._sessions: dict[str, list[dict]] = {}

    def client(self) -> VideoSDKClient:
        return VideoSDKClient(self.account)

    def account_problems(self, values: dict) -> dict[str, str]:
        problems = {}
        if not values.get("api_key"):
            problems["api_key"] = _("Paste the API key from your VideoSDK dashboard (API keys).")
        if not values.get("api_secret"):
            problems["api_secret"] = _("Paste the secret that goes with the API key.")
        return problems

    # --- rooms -----------------------------------------------------------------------------------
    def webhook(self) -> dict | None:
        """The room's webhook: this account's events URL, when the portal has a public HTTPS address."""
        if not settings.SITE_URL.startswith("https://"):
            return None
        url = absolute_reverse("videosdk_event", self.account.code)
        return {"endPoint": url, "events": list(webhooks.SUBSCRIBED)}

    def ensure_room(self, meeting) -> ProviderRoom:
        room = ProviderRoom.objects.filter(account=self.account, meeting=meeting).first()
        if room is not None:
            return room
        with transaction.atomic():
            # Concurrent first joins queue here; the first creates the room, the others find it.
            Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
            room = ProviderRoom.objects.filter(account=self.account, meeting=meeting).first()
            if room is None:
                body = {"customRoomId": custom_room_id(meeting)}
                if hook := self.webhook():
                    body["webhook"] = hook
                created = self.client().create_room(body)
                room_id = created["roomId"]
                if len(room_id) > 100 or not ROOM_ID.match(room_id):
                    raise ProviderError(f"VideoSDK answered a room id the portal cannot use: {room_id[:40]!r}")
                try:
                    with transaction.atomic():
                        room = ProviderRoom.objects.create(
                            organization_id=meeting.organization_id, account=self.account, meeting=meeting,
                            name=body["customRoomId"], provider_room_id=room_id, settings=body)
                except IntegrityError:  # another process without the lock (a migration, a shell)
                    room = ProviderRoom.objects.get(account=self.account, meeting=meeting)
        return room

    def meeting_for_room(self, room_id: str):
        room = (ProviderRoom.objects.filter(account=self.account, provider_room_id=room_id)
                .select_related("meeting").first())
        return room.meeting if room is not None else None

    # --- joining ---------------------------------------------------------------------------------
    def validate(self, room_id: str) -> None:
        """VideoSDK's word that the room can be joined, asked at most once a minute per room: everyone
        joining at a sitting's start would otherwise queue behind the API key's rate limit."""
        key = f"videosdk:valid:{room_id}"
        if cache.get(key):
            return
        if self.client().validate_room(room_id) is None:
            raise ProviderError(f"VideoSDK says room {room_id} cannot be joined (deactivated or deleted in "
                                "VideoSDK's dashboard?)", permanent=True)
        cache.set(key, True, VALIDATION_SECONDS)

    def join(self, *, meeting, occurrence, invitation, session) -> JoinTicket:
        room = self.ensure_room(meeting)
        self.validate(room.provider_room_id)
        ends = stay_ends(invitation, occurrence)
        permissions = tokens.permissions_for(meeting, invitation)
        token = tokens.join_token(self.account, room_id=room.provider_room_id, participant_id=invitation.peer_id,
                                  permissions=permissions, expires_at=ends)
        signaling = settings.VIDEOSDK_SIGNALING_HOST
        connect = [f"https://{signaling or SDK_API_HOST}", *SDK_ORIGINS]
        if signaling:
            connect.append(f"wss://{signaling}")
        return JoinTicket(kind="sdk", sdk="videosdk", token=token, expires_at=ends, options={
            "room_id": room.provider_room_id, "participant_id": invitation.peer_id,
            "moderator": invitation.is_moderating, "asks_to_join": tokens.ASK_JOIN in permissions,
            "recording": meeting.recording_allowed and invitation.is_moderating,
            "signaling_host": signaling, "connect": connect})

    # --- moderation ------------------------------------------------------------------------------
    def _room_id(self, meeting) -> str | None:
        room = ProviderRoom.objects.filter(account=self.account, meeting=meeting).first()
        return room.provider_room_id if room is not None else None

    def remove_participant(self, *, meeting, invitation) -> bool:
        room_id = self._room_id(meeting)
        return bool(room_id) and self.client().remove_participant(room_id, invitation.peer_id)

    def end_room(self, *, meeting, occurrence) -> bool:
        room_id = self._room_id(meeting)
        return bool(room_id) and self.client().end_session(room_id)

    # --- callbacks -------------------------------------------------------------------------------
    def parse_event(self, request) -> list[ParsedEvent]:
        return webhooks.parse_event(self, request)

    def apply_events(self) -> int:
        from . import events  # it reads services that read the provider registry

        return events.apply_pending(self)

    # --- reports ---------------------------------------------------------------------------------
    def _sessions_of(self, room_id: str) -> list[dict]:
        if room_id not in self._sessions:  # one sync asks for recordings, then for each sitting
            self._sessions[room_id] = self.client().sessions(room_id)
        return self._sessions[room_id]

    def fetch_recordings(self, *, meeting) -> list[ProviderRecording]:
        room_id = self._room_id(meeting)
        if not room_id:
            return []
        return reports.recordings(self.client(), room_id, self._sessions_of(room_id))

    def fetch_sitting(self, *, meeting, start, end) -> SittingReport:
        room_id = self._room_id(meeting)
        return reports.sitting(self._sessions_of(room_id), start, end) if room_id else SittingReport()

    def check_connection(self) -> list[Check]:
        checks = []
        try:
            self.client().list_rooms()
        except ProviderError as error:
            checks.append(Check(_("REST API"), False, str(error)))
        else:
            checks.append(Check(_("REST API"), True, _("The API key and secret were accepted (a signed crawler "
                                                       "token listed rooms).")))
        try:
            webhooks.public_key(self.account, refresh=True)
        except ProviderError as error:
            checks.append(Check(_("Webhook signatures"), False, str(error)))
        else:
            checks.append(Check(_("Webhook signatures"), True, _("VideoSDK's public key is at hand: signed "
                                                                 "webhooks can be verified.")))
        hook = self.webhook()
        checks.append(Check(_("Webhook address"), bool(hook),
                            _("New rooms send their events to %(address)s.") % {"address": hook["endPoint"]} if hook
                            else _("The portal's SITE_URL is not HTTPS, so rooms are made without a webhook: "
                                   "attendance and recordings come from the sync alone.")))
        return checks

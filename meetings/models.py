"""Rooms, meetings and their occurrences, invitations with their join links, and join sessions.

A Meeting is what people are invited to: one sitting, or a series described by an RRULE whose sittings
are materialised as Occurrence rows. One invitation (one person, one link) covers every occurrence of
its meeting. A JoinSession is one stay of one invitee in one occurrence: attendance.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import TIMEZONE_CHOICES
from accounts.tenancy import TenantModel, new_public_code
from portal.crypto import EncryptedTextField
from portal.validators import validate_public_hostname, validate_single_line

# The languages the Gcore seed lists for interpretation channels.
INTERPRETATION_LANGUAGES = [
    ("zh", _("Chinese")), ("nl", _("Dutch")), ("en", _("English")), ("fr", _("French")), ("de", _("German")),
    ("lb", _("Luxembourgian")), ("pt", _("Portuguese")), ("ru", _("Russian")), ("es", _("Spanish")),
    ("sv", _("Swedish")), ("uk", _("Ukrainian")),
]
# Interface languages of the embedded room (the seed's &lang values).
INTERFACE_LANGUAGES = [("", _("The person's browser language")), ("en", _("English")), ("fr", _("French")),
                       ("de", _("German")), ("lb", _("Luxembourgian")), ("ru", _("Russian"))]
# Regions: the seed's server list.
REGIONS = [("serv0", _("Luxembourg")), ("serv1", _("Australia")), ("serv2", _("USA")), ("serv3", _("Singapore"))]


def new_ical_uid() -> str:
    return f"{uuid.uuid4()}@meeting-portal"


def new_peer_id() -> str:
    return str(uuid.uuid4())


class Kind(models.TextChoices):
    CALL = "call", _("Call")
    WEBINAR = "webinar", _("Webinar")


class MeetingSettings(models.Model):
    """Settings a meeting takes from its room's defaults; rooms and meetings both carry them."""

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CALL)
    waiting_room = models.BooleanField(default=False)
    raise_hand = models.BooleanField(default=True)
    chat_enabled = models.BooleanField(default=True)
    recording_allowed = models.BooleanField(default=False)
    max_broadcasters = models.PositiveIntegerField(
        default=0, help_text=_("People with camera or microphone at once; 0 means the provider's limit."))
    max_watchers = models.PositiveIntegerField(default=0, help_text=_("Webinar viewers at once; 0 means no limit."))
    region = models.CharField(max_length=10, choices=REGIONS, default="serv0")
    interface_language = models.CharField(max_length=5, choices=INTERFACE_LANGUAGES, blank=True)
    provider = models.CharField(max_length=30, default="builtin")
    provider_account = models.ForeignKey("meetings.ProviderAccount", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+")
    # How a hosted provider's room looks (Gcore's URL-only attributes).
    controls_disabled = models.BooleanField(default=False, help_text=_("Hide the room's main controls."))
    hide_indicators = models.BooleanField(default=False, help_text=_("Hide names and icons in people's tiles."))
    start_fullscreen = models.BooleanField(default=False)
    sort_peers = models.BooleanField(default=False, help_text=_("Move people with cameras on to the visible area."))
    minimize_tiles = models.BooleanField(default=False, help_text=_("Fit as many people on one screen as possible."))

    SETTING_FIELDS = ("kind", "waiting_room", "raise_hand", "chat_enabled", "recording_allowed",
                      "max_broadcasters", "max_watchers", "region", "interface_language", "provider",
                      "controls_disabled", "hide_indicators", "start_fullscreen", "sort_peers", "minimize_tiles")

    class Meta:
        abstract = True

    def settings_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.SETTING_FIELDS}


class Room(TenantModel, MeetingSettings):
    """A standing place ("the weekly team room") whose settings new meetings start from."""

    name = models.CharField(max_length=120, validators=[validate_single_line])
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_rooms")
    co_hosts = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="co_hosted_rooms")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Meeting(TenantModel, MeetingSettings):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="meetings")
    title = models.CharField(max_length=200, validators=[validate_single_line])
    description = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES)
    # The first occurrence's times; a series repeats them by the RRULE in this timezone.
    start = models.DateTimeField()
    end = models.DateTimeField()
    rrule = models.CharField(max_length=300, blank=True, help_text=_("RFC 5545 recurrence rule; empty for one-off."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_meetings")
    co_hosts = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="co_hosted_meetings")
    ical_uid = models.CharField(max_length=100, unique=True, editable=False, default=new_ical_uid)
    ical_sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "start"])]

    def __str__(self):
        return self.title

    @property
    def is_recurring(self) -> bool:
        return bool(self.rrule)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


class Occurrence(models.Model):
    """One sitting of a meeting; its status decides whether it can be joined."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")
        CANCELLED = "cancelled", _("Cancelled")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="occurrences")
    code = models.CharField(max_length=16, unique=True, default=new_public_code, editable=False)
    start = models.DateTimeField()
    end = models.DateTimeField()
    # Where the series' rule put this occurrence: its RECURRENCE-ID, kept when it is moved.
    original_start = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    modified = models.BooleanField(default=False, help_text=_("Edited on its own; series edits leave it alone."))
    title_override = models.CharField(max_length=200, blank=True, validators=[validate_single_line])

    class Meta:
        ordering = ["start"]
        constraints = [models.UniqueConstraint(fields=["meeting", "original_start"], name="one_occurrence_per_slot")]
        indexes = [models.Index(fields=["meeting", "end"])]

    def __str__(self):
        return f"{self.meeting} at {self.start:%Y-%m-%d %H:%M}"

    @property
    def title(self) -> str:
        return self.title_override or self.meeting.title


class Role(models.TextChoices):
    HOST = "host", _("Host")
    MODERATOR = "moderator", _("Moderator")
    INTERPRETER = "interpreter", _("Interpreter")
    SPEAKER = "speaker", _("Speaker")
    PARTICIPANT = "participant", _("Participant")
    VIEWER = "viewer", _("Viewer")


ROLES_BY_KIND = {
    Kind.CALL: [Role.HOST, Role.MODERATOR, Role.INTERPRETER, Role.PARTICIPANT],
    Kind.WEBINAR: [Role.HOST, Role.MODERATOR, Role.INTERPRETER, Role.SPEAKER, Role.VIEWER],
}
# Roles that count against max_watchers (webinar audience); all others are broadcasters.
WATCHER_ROLES = {Role.VIEWER}
MODERATING_ROLES = {Role.HOST, Role.MODERATOR}


class Invitation(TenantModel):
    """One person invited to one meeting, with a role and a personal join link."""

    class Source(models.TextChoices):
        INVITED = "invited", _("Invited")
        OPEN_LINK = "open_link", _("Open viewer link")

    class EmailStatus(models.TextChoices):
        NONE = "", _("Not sent")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="invitations")
    email = models.EmailField(blank=True)
    display_name = models.CharField(max_length=120, validators=[validate_single_line])
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.PARTICIPANT)
    language = models.CharField(max_length=5, choices=INTERPRETATION_LANGUAGES, blank=True,
                                help_text=_("The language an interpreter speaks into."))
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, help_text=_("Times are shown in this zone."))
    peer_id = models.CharField(max_length=64, unique=True, default=new_peer_id, editable=False)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.INVITED)
    # An explicit window narrows the default one (30 minutes before each occurrence to its end + grace).
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True, help_text=_("Removed from the room by a moderator."))
    link_generation = models.PositiveIntegerField(default=0)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    first_joined_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(max_length=10, choices=EmailStatus.choices, blank=True, default="")
    email_error = models.CharField(max_length=300, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]
        constraints = [models.UniqueConstraint(fields=["meeting", "email"], condition=~Q(email=""),
                                               name="one_invitation_per_email")]

    def __str__(self):
        return f"{self.display_name} ({self.role}) in {self.meeting}"

    @property
    def is_moderating(self) -> bool:
        return self.role in MODERATING_ROLES

    @property
    def is_watcher(self) -> bool:
        return self.role in WATCHER_ROLES


class JoinLink(TenantModel):
    """A join link's SHA-256. Re-issuing revokes the old row, so an old link answers "revoked", not
    "unknown". An open viewer link (webinars) has no invitation and a capacity."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="links")
    invitation = models.ForeignKey(Invitation, null=True, blank=True, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    generation = models.PositiveIntegerField(default=0)
    capacity = models.PositiveIntegerField(default=0, help_text=_("Open viewer links: people at once."))
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invitation"],
                                    condition=Q(revoked_at__isnull=True, invitation__isnull=False),
                                    name="one_live_link_per_invitation"),
            models.UniqueConstraint(fields=["meeting"], condition=Q(revoked_at__isnull=True, invitation__isnull=True),
                                    name="one_live_open_link_per_meeting"),
        ]


class JoinSession(TenantModel):
    """One stay of one invitee in one occurrence. The browser holds a secret whose hash is key_hash."""

    class EndReason(models.TextChoices):
        LEFT = "left", _("Left")
        REPLACED = "replaced", _("Joined from elsewhere")
        REMOVED = "removed", _("Removed by a moderator")
        DENIED = "denied", _("Not let in from the waiting room")
        ENDED = "ended", _("Meeting ended")

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="sessions")
    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="sessions")
    key_hash = models.CharField(max_length=64, unique=True)
    admitted = models.BooleanField(default=True, help_text=_("False while in the waiting room."))
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=10, choices=EndReason.choices, blank=True)
    # Live state of the built-in room, kept here so every web process sees the same room.
    connected = models.BooleanField(default=False)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    # When the room socket last showed it was alive (on connect and every ping). A socket that dies
    # without its disconnect handler running (a crash, a killed process) counts as dropped from here.
    last_seen_at = models.DateTimeField(null=True, blank=True)
    audio_on = models.BooleanField(default=False)
    video_on = models.BooleanField(default=False)
    screen_on = models.BooleanField(default=False)
    hand_raised = models.BooleanField(default=False)
    # A hosted provider admitted this stay through its access check (see services/provider_access.py).
    provider_admitted = models.BooleanField(default=False)

    class Meta:
        ordering = ["started_at"]
        constraints = [models.UniqueConstraint(fields=["invitation"], condition=Q(ended_at__isnull=True),
                                               name="one_live_session_per_invitation")]
        indexes = [models.Index(fields=["occurrence", "ended_at"])]


class CalendarFeed(models.Model):
    """A person's secret calendar URL; revoking moves to the next generation."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    generation = models.PositiveIntegerField(default=0)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"calendar feed of {self.user_id}"


class ReminderSent(models.Model):
    """Reminders already sent, so the beat task sends each one once."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE)
    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["invitation", "occurrence"], name="one_reminder_per_sitting")]

    def __str__(self):
        return f"reminder {self.invitation_id}/{self.occurrence_id}"


class Visibility(models.TextChoices):
    HOSTS = "hosts", _("Hosts of the meeting")
    INVITEES = "invitees", _("The meeting's invitees")
    ORGANIZATION = "organization", _("Everyone in the organization")
    LINK = "link", _("Anyone with its secret link")


class Recording(TenantModel):
    """A recording of a meeting. Only a complete one (status ready) is ever shown; an upload that stops
    half way is resumed or discarded."""

    class Status(models.TextChoices):
        UPLOADING = "uploading", _("Uploading")
        READY = "ready", _("Ready")
        DISCARDED = "discarded", _("Discarded")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="recordings")
    occurrence = models.ForeignKey(Occurrence, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="recordings")
    provider = models.CharField(max_length=30, default="builtin")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADING)
    file = models.FileField(upload_to="recordings/", blank=True)
    content_type = models.CharField(max_length=100, default="video/webm")
    size = models.PositiveBigIntegerField(default=0)
    duration_seconds = models.FloatField(default=0)
    recorded_by = models.ForeignKey(Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    visibility = models.CharField(max_length=12, choices=Visibility.choices, default=Visibility.HOSTS)
    share_generation = models.PositiveIntegerField(default=0, help_text=_("A new generation revokes the secret link."))
    # Recordings a hosted provider keeps: its id (the sync upserts on it) and where to watch them.
    provider_recording_id = models.CharField(max_length=100, blank=True)
    hls_url = models.URLField(max_length=500, blank=True)
    download_url = models.URLField(max_length=500, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_chunk_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [models.UniqueConstraint(fields=["provider", "provider_recording_id"],
                                               condition=~Q(provider_recording_id=""),
                                               name="one_recording_per_provider_id")]

    def __str__(self):
        return f"recording of {self.meeting} ({self.status})"

    @property
    def duration_text(self) -> str:
        minutes, seconds = divmod(round(self.duration_seconds), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {seconds:02d} s"


class ProviderAccount(TenantModel):
    """An organization's account at a hosted video provider. Secrets are encrypted at rest and never
    shown again; key_version grows whenever signing material changes, so caches can tell."""

    class Algorithm(models.TextChoices):
        HS256 = "HS256", _("HS256 (shared secret)")
        RS256 = "RS256", _("RS256 (RSA key pair)")

    name = models.CharField(max_length=120)
    provider = models.CharField(max_length=30, default="gcore")
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text=_("New meetings of the organization use this account."))
    class JoinMode(models.TextChoices):
        GCORE_JWT = "jwt", _("Signed token (JWT): rights travel in the token; no access check")
        GCORE_ACCESS_CHECK = "access_check", _("Access check: Gcore asks the portal at each join; no JWT")
        SIGNALWIRE_VIDEO = "video", _("Video room tokens (everyone, one per join)")
        SIGNALWIRE_FABRIC = "fabric", _("Fabric: guest tokens for guests, subscriber tokens for members")

    meet_domain = models.CharField(max_length=253, default="meet.gcore.com", validators=[validate_public_hostname],
                                   help_text=_("meet.gcore.com, your *.gvideo.co domain, or your own domain."))
    # How people join; which modes apply depends on the provider (its package validates the choice).
    join_mode = models.CharField(max_length=20, choices=JoinMode.choices, default=JoinMode.GCORE_JWT)
    space_host = models.CharField(max_length=253, blank=True, validators=[validate_public_hostname],
                                  help_text=_("Your SignalWire space, such as example.signalwire.com."))
    project_id = models.CharField(max_length=64, blank=True, validators=[validate_single_line],
                                  help_text=_("The SignalWire project id (a UUID)."))
    server_url = models.URLField(blank=True, help_text=_("Your LiveKit server, such as https://livekit.example.org."))
    api_key = models.CharField(max_length=200, blank=True, validators=[validate_single_line],
                               help_text=_("The API key (VideoSDK, LiveKit) or app id (Jitsi)."))
    api_secret = EncryptedTextField(blank=True, help_text=_("The API secret that goes with the key."))
    key_id = models.CharField(max_length=200, blank=True, validators=[validate_single_line],
                              help_text=_("Jitsi RS256: the key id (kid) your server looks the public key up by."))
    jwt_audience = models.CharField(max_length=200, blank=True, validators=[validate_single_line],
                                    help_text=_("Jitsi: the token audience (aud) your server accepts."))
    default_region = models.CharField(max_length=10, choices=REGIONS, default="serv0")
    jwt_algorithm = models.CharField(max_length=5, choices=Algorithm.choices, default=Algorithm.HS256)
    jwt_secret = EncryptedTextField(blank=True, help_text=_("HS256 signing secret."))
    jwt_private_key = EncryptedTextField(blank=True, help_text=_("RS256 private key (PEM)."))
    jwt_public_key = models.TextField(blank=True, help_text=_("Register this public key with the provider."))
    api_token = EncryptedTextField(blank=True, help_text=_("Streaming API permanent token."))
    webhook_secret = EncryptedTextField(blank=True, help_text=_("Header value the provider sends with events."))
    access_secret = EncryptedTextField(blank=True, help_text=_("Header value the provider sends with access checks."))
    key_version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.provider})"


class ProviderRoom(TenantModel):
    """The provider's room for one meeting, created once: the unique key settles concurrent first joins."""

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="rooms")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="provider_rooms")
    name = models.CharField(max_length=100)
    provider_room_id = models.CharField(max_length=100)
    settings = models.JSONField(default=dict, help_text=_("The room settings last sent to the provider."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "meeting"], name="one_provider_room_per_meeting")]

    def __str__(self):
        return f"{self.name} at {self.account}"


class SessionToken(models.Model):
    """A provider token a join session holds and the portal refreshes server-side: the refresh token
    never leaves the server."""

    session = models.ForeignKey(JoinSession, on_delete=models.CASCADE, related_name="provider_tokens")
    purpose = models.CharField(max_length=20)
    refresh_token = EncryptedTextField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "purpose"], name="one_token_per_purpose")]

    def __str__(self):
        return f"{self.purpose} token of session {self.session_id}"


class ProviderEvent(models.Model):
    """A provider's event as received, kept once (by its dedupe key) and applied after commit."""

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="events")
    dedupe_key = models.CharField(max_length=64, help_text=_("The provider's event id, unique per account."))
    kind = models.CharField(max_length=20)
    room_id = models.CharField(max_length=100)
    peer_id = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    applied = models.BooleanField(default=False)

    class Meta:
        ordering = ["received_at"]
        # Two accounts may hear the same event id (two organizations on one provider project): each keeps it.
        constraints = [models.UniqueConstraint(fields=["account", "dedupe_key"], name="one_event_per_account")]

    def __str__(self):
        return f"{self.kind} {self.peer_id} in {self.room_id}"


class Presence(TenantModel):
    """One stay of one peer in a hosted provider's room, as one source saw it: the provider's join and
    leave events as they arrive, or its statistics afterwards. services/attendance.py merges the two
    into one history per person."""

    class Source(models.TextChoices):
        EVENTS = "events", _("Join and leave events")
        STATISTICS = "statistics", _("Provider statistics")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="presences")
    occurrence = models.ForeignKey(Occurrence, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="presences")
    invitation = models.ForeignKey(Invitation, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="presences")
    peer_id = models.CharField(max_length=100)
    source = models.CharField(max_length=12, choices=Source.choices)
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True, help_text=_("Empty while the person is still there."))

    class Meta:
        ordering = ["joined_at"]
        constraints = [models.UniqueConstraint(fields=["meeting", "source", "peer_id", "joined_at"],
                                               name="one_presence_per_start")]
        indexes = [models.Index(fields=["meeting", "peer_id"])]

    def __str__(self):
        return f"{self.peer_id} in {self.meeting} from {self.joined_at:%Y-%m-%d %H:%M} ({self.source})"


class OccurrenceUsage(models.Model):
    """A hosted provider's summary of one sitting's room. `final` once statistics were read long enough
    after the sitting that nothing more will come (they are sampled every 30 seconds)."""

    occurrence = models.OneToOneField(Occurrence, on_delete=models.CASCADE, related_name="usage")
    participants = models.PositiveIntegerField(default=0)
    active_seconds = models.PositiveIntegerField(default=0)
    first_join = models.DateTimeField(null=True, blank=True)
    last_leave = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField()
    final = models.BooleanField(default=False)

    def __str__(self):
        return f"usage of {self.occurrence_id}"


class MeetingSync(models.Model):
    """Where the provider sync of one meeting stands, shown on the meeting page and in admin."""

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="sync")
    requested_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    result = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return f"sync of {self.meeting_id}"


# Outgoing webhooks live in their own package; their models belong to this app.
from .webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: E402,F401

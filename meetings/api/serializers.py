"""What the API shows of rooms, meetings, occurrences, invitations, attendance, recordings and usage,
and what it accepts. Public codes identify everything; times are ISO 8601 with an offset (UTC out,
any offset in; a time without one is refused rather than guessed)."""

from datetime import timedelta

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from accounts.models import TIMEZONE_CHOICES
from portal.api.inputs import Input

from ..models import INTERPRETATION_LANGUAGES, Invitation, Meeting, MeetingSettings, Occurrence, Recording, Role, Room
from ..recurrence import WEEKDAYS
from ..selectors import invitee_state


class AwareDateTimeField(serializers.DateTimeField):
    default_error_messages = {"naive": "Give the time with its offset, e.g. 2026-12-01T09:00:00+01:00.",
                              "impossible": "This date or time does not exist."}

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:  # well formed, but a 30th of February or a 25th hour
                self.fail("impossible")
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


def _setting_field(name: str) -> serializers.Field:
    field = MeetingSettings._meta.get_field(name)
    if field.choices:
        return serializers.ChoiceField(choices=field.choices, required=False)
    if field.get_internal_type() == "BooleanField":
        return serializers.BooleanField(required=False)
    if field.get_internal_type() == "PositiveIntegerField":
        return serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    return serializers.CharField(max_length=field.max_length, required=False)


class _Settings(Input):
    def validate_provider(self, value):
        from ..providers import PROVIDERS

        if value not in PROVIDERS:
            raise serializers.ValidationError(f"Choose one of: {', '.join(PROVIDERS)}.")
        return value


# The room settings a meeting or room carries, one field per MeetingSettings column; on input each is
# optional (what is not sent stays as it was, or comes from the room).
SettingsSerializer = type("SettingsSerializer", (_Settings,),
                          {name: _setting_field(name) for name in MeetingSettings.SETTING_FIELDS})


class RoomSerializer(serializers.ModelSerializer):
    owner = serializers.EmailField(source="owner.email", read_only=True)
    settings = serializers.SerializerMethodField()

    class Meta:
        model = Room
        fields = ("code", "name", "owner", "created_at", "settings")

    def get_settings(self, room) -> SettingsSerializer:
        return room.settings_dict()


class RoomInput(Input):
    name = serializers.CharField(max_length=120)
    settings = SettingsSerializer(required=False)


class RoomChange(Input):
    name = serializers.CharField(max_length=120, required=False)
    settings = SettingsSerializer(required=False)


class OccurrenceSerializer(serializers.ModelSerializer):
    meeting = serializers.CharField(source="meeting.code", read_only=True)
    title = serializers.SerializerMethodField()

    class Meta:
        model = Occurrence
        fields = ("code", "meeting", "title", "start", "end", "status", "modified")

    def get_title(self, occurrence) -> str:
        return occurrence.title_override or occurrence.meeting.title


class MeetingSerializer(serializers.ModelSerializer):
    room = serializers.CharField(source="room.code", read_only=True)
    owner = serializers.EmailField(source="owner.email", read_only=True)
    settings = serializers.SerializerMethodField()
    occurrence_count = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = Meeting
        fields = ("code", "title", "description", "room", "owner", "timezone", "start", "end", "rrule", "status",
                  "occurrence_count", "settings", "created_at", "updated_at")

    def get_settings(self, meeting) -> SettingsSerializer:
        return meeting.settings_dict()


class Recurrence(Input):
    frequency = serializers.ChoiceField(choices=("daily", "weekly", "monthly"))
    weekdays = serializers.ListField(child=serializers.ChoiceField(choices=[day for day, _ in WEEKDAYS]),
                                     required=False, max_length=7)
    count = serializers.IntegerField(min_value=1, max_value=200, required=False)
    until = serializers.DateField(required=False)

    def validate(self, data):
        if data["frequency"] == "weekly" and not data.get("weekdays"):
            raise serializers.ValidationError({"weekdays": "Say which weekdays a weekly series meets on."})
        if bool(data.get("count")) == bool(data.get("until")):
            raise serializers.ValidationError("Say when the series ends: give either count or until.")
        return data


class MeetingInput(Input):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    timezone = serializers.ChoiceField(choices=TIMEZONE_CHOICES, required=False,
                                       help_text="The zone the series repeats in; the organization's by default.")
    room = serializers.CharField(max_length=16, required=False,
                                 help_text="A room's code; by default the owner's own room (made when missing).")
    owner = serializers.EmailField(required=False, help_text="A host of the organization; by default the caller.")
    recurrence = Recurrence(required=False)
    settings = SettingsSerializer(required=False)

    def validate(self, data):
        until = (data.get("recurrence") or {}).get("until")
        if until and not data["start"].date() <= until <= data["start"].date() + timedelta(days=5 * 366):
            raise serializers.ValidationError({"recurrence": {"until": ["The series ends on or after its first "
                                                                        "sitting, within five years."]}})
        return data


class MeetingChange(Input):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    start = AwareDateTimeField(required=False)
    end = AwareDateTimeField(required=False)
    timezone = serializers.ChoiceField(choices=TIMEZONE_CHOICES, required=False)
    settings = SettingsSerializer(required=False)


class OccurrenceChange(Input):
    start = AwareDateTimeField(required=False)
    end = AwareDateTimeField(required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)


class InvitationSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    meeting = serializers.CharField(source="meeting.code", read_only=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ("code", "meeting", "email", "name", "role", "language", "state", "email_status", "created_at",
                  "first_opened_at", "first_joined_at", "revoked_at")

    def get_state(self, invitation) -> str:
        return invitee_state(invitation)


class InvitationRow(Input):
    email = serializers.CharField(max_length=254)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    language = serializers.ChoiceField(choices=INTERPRETATION_LANGUAGES, required=False)


class InvitationsInput(Input):
    invitations = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=1000,
                                        help_text="Up to 1,000 people: {email, name?, role?, language?} each.")
    send_email = serializers.BooleanField(default=True)


class InvitationResult(serializers.Serializer):
    row = serializers.IntegerField()
    status = serializers.ChoiceField(choices=("created", "refused"))
    invitation = InvitationSerializer(required=False)
    link = serializers.URLField(required=False, help_text="Only with the links scope; shown this once.")
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class InvitationsResult(serializers.Serializer):
    created = serializers.IntegerField()
    refused = serializers.IntegerField()
    results = InvitationResult(many=True)


class RoleChange(Input):
    role = serializers.ChoiceField(choices=Role.choices)
    language = serializers.ChoiceField(choices=INTERPRETATION_LANGUAGES, required=False)


class Reissue(Input):
    send_email = serializers.BooleanField(default=False)


class LinkSerializer(serializers.Serializer):
    link = serializers.URLField(help_text="Shown this once; the portal keeps only its hash.")


class OpenLinkInput(Input):
    capacity = serializers.IntegerField(min_value=1, max_value=100_000)


class AttendanceSerializer(serializers.Serializer):
    name = serializers.CharField()
    role = serializers.CharField()
    email = serializers.CharField()
    sessions = serializers.IntegerField()
    first_join = serializers.DateTimeField()
    last_leave = serializers.DateTimeField(allow_null=True)
    seconds = serializers.FloatField()


class RecordingSerializer(serializers.ModelSerializer):
    meeting = serializers.CharField(source="meeting.code", read_only=True)
    occurrence = serializers.CharField(source="occurrence.code", read_only=True, default=None)

    class Meta:
        model = Recording
        fields = ("code", "meeting", "occurrence", "provider", "status", "content_type", "size", "duration_seconds",
                  "visibility", "started_at", "finished_at")


class VisibilityChange(Input):
    visibility = serializers.ChoiceField(choices=Recording._meta.get_field("visibility").choices)
    new_link = serializers.BooleanField(default=False, help_text="Revoke the secret link and make a new one.")


class UsageSerializer(serializers.Serializer):
    month = serializers.DateTimeField()
    meetings = serializers.IntegerField()
    participant_minutes = serializers.FloatField()
    recording_hours = serializers.FloatField()

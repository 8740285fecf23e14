import zoneinfo
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import TIMEZONE_CHOICES, Membership, User

from .models import INTERPRETATION_LANGUAGES, MeetingSettings, ProviderAccount, Role, Room
from .providers import provider_choices
from .recurrence import WEEKDAYS, build_rrule

SETTINGS_FIELDS = list(MeetingSettings.SETTING_FIELDS)


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock date and time, kept naive: the form's own timezone field says where it is."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    formats = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        for fmt in self.formats:
            try:
                return datetime.strptime(value.strip(), fmt)
            except ValueError:
                continue
        raise ValidationError("Enter a date and time.", code="invalid")


class SettingsFieldsMixin:
    def _setup_settings(self):
        self.fields["provider"] = forms.ChoiceField(choices=provider_choices(), initial="builtin")
        for name in ("max_broadcasters", "max_watchers"):
            self.fields[name].widget.attrs["min"] = 0


class RoomForm(SettingsFieldsMixin, forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name", *SETTINGS_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_settings()
        if not self.instance.pk:
            self.fields["max_broadcasters"].initial = 8
            self.fields["max_watchers"].initial = 20


class MeetingForm(SettingsFieldsMixin, forms.Form):
    FREQUENCIES = [("", "Does not repeat"), ("daily", "Daily"), ("weekly", "Weekly"), ("monthly", "Monthly")]

    room = forms.ModelChoiceField(queryset=Room.objects.none(), to_field_name="code", empty_label=None)
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    start = LocalDateTimeField()
    end = LocalDateTimeField()
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES)
    frequency = forms.ChoiceField(choices=FREQUENCIES, required=False, label="Repeats")
    weekdays = forms.MultipleChoiceField(choices=WEEKDAYS, required=False, widget=forms.CheckboxSelectMultiple,
                                         label="On (weekly)")
    count = forms.IntegerField(min_value=1, max_value=200, required=False, label="Ends after (occurrences)")
    until = forms.DateField(required=False, label="or ends on", widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(choices=MeetingSettings._meta.get_field("kind").choices)
    waiting_room = forms.BooleanField(required=False)
    raise_hand = forms.BooleanField(required=False)
    chat_enabled = forms.BooleanField(required=False)
    recording_allowed = forms.BooleanField(required=False)
    max_broadcasters = forms.IntegerField(min_value=0)
    max_watchers = forms.IntegerField(min_value=0)
    region = forms.ChoiceField(choices=MeetingSettings._meta.get_field("region").choices)
    interface_language = forms.ChoiceField(choices=MeetingSettings._meta.get_field("interface_language").choices,
                                           required=False)
    controls_disabled = forms.BooleanField(required=False, label="Hide the room's main controls (Gcore)")
    hide_indicators = forms.BooleanField(required=False, label="Hide names and icons in tiles (Gcore)")
    start_fullscreen = forms.BooleanField(required=False, label="Start in full screen (Gcore)")
    sort_peers = forms.BooleanField(required=False, label="Move people with cameras on up (Gcore)")
    minimize_tiles = forms.BooleanField(required=False, label="Fit as many people on one screen (Gcore)")

    def __init__(self, *args, organization, series_fields=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = Room.objects.of(organization)
        self._setup_settings()
        if not series_fields:
            for name in ("frequency", "weekdays", "count", "until"):
                del self.fields[name]

    def clean(self):
        cleaned = super().clean()
        tz = cleaned.get("timezone")
        if tz and cleaned.get("start") and cleaned.get("end"):
            zone = zoneinfo.ZoneInfo(tz)
            cleaned["start"] = cleaned["start"].replace(tzinfo=zone)
            cleaned["end"] = cleaned["end"].replace(tzinfo=zone)
            if cleaned["end"] <= cleaned["start"]:
                self.add_error("end", "The meeting must end after it starts.")
        if "frequency" in self.fields and cleaned.get("frequency"):
            if cleaned["frequency"] == "weekly" and not cleaned.get("weekdays"):
                self.add_error("weekdays", "Choose the weekdays it repeats on.")
            if not cleaned.get("count") and not cleaned.get("until"):
                self.add_error("count", "Say when the series ends: after a number of occurrences or on a date.")
            if cleaned.get("count") and cleaned.get("until"):
                self.add_error("until", "Give either a number of occurrences or an end date, not both.")
            if cleaned.get("until") and cleaned.get("start") and cleaned["until"] < cleaned["start"].date():
                self.add_error("until", "The series cannot end before it starts.")
        return cleaned

    def rrule(self) -> str:
        data = self.cleaned_data
        return build_rrule(frequency=data.get("frequency", ""), weekdays=data.get("weekdays") or [],
                           count=data.get("count"), until=data.get("until"), tz=data["timezone"])

    def settings(self) -> dict:
        return {name: self.cleaned_data[name] for name in SETTINGS_FIELDS}


class OccurrenceForm(forms.Form):
    title = forms.CharField(max_length=200)
    start = LocalDateTimeField()
    end = LocalDateTimeField()

    def __init__(self, *args, timezone_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(timezone_name)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end"):
            cleaned["start"] = cleaned["start"].replace(tzinfo=self.zone)
            cleaned["end"] = cleaned["end"].replace(tzinfo=self.zone)
            if cleaned["end"] <= cleaned["start"]:
                self.add_error("end", "The meeting must end after it starts.")
        return cleaned


ROLE_CHOICES = Role.choices
LANGUAGE_CHOICES = [("", "—"), *INTERPRETATION_LANGUAGES]


class InviteForm(forms.Form):
    email = forms.EmailField()
    display_name = forms.CharField(max_length=120, required=False, label="Name")
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, required=False, label="Language (interpreters)")


class InviteMembersForm(forms.Form):
    members = forms.ModelMultipleChoiceField(queryset=User.objects.none(),
                                             widget=forms.SelectMultiple(attrs={"size": 6}))
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, required=False, label="Language (interpreters)")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = User.objects.filter(memberships__organization=organization).order_by("email")
        self.fields["members"].label_from_instance = lambda user: f"{user.display_name} <{user.email}>"


class PasteForm(forms.Form):
    addresses = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}),
                                help_text="One per line, or separated by commas. Name <address> works too.")
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, required=False, label="Language (interpreters)")


class CsvForm(forms.Form):
    file = forms.FileField(help_text="Columns: email, name, role, language. The first row names the columns.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 1_000_000:
            raise ValidationError("The file is larger than 1 MB.")
        return upload


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, required=False)


class TransferForm(forms.Form):
    new_owner = forms.ModelChoiceField(queryset=User.objects.none(), label="New owner")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        hosts = [Membership.Role.HOST, Membership.Role.ADMIN, Membership.Role.OWNER]
        self.fields["new_owner"].queryset = User.objects.filter(
            memberships__organization=organization, memberships__role__in=hosts).order_by("email")


class OpenLinkForm(forms.Form):
    capacity = forms.IntegerField(min_value=1, max_value=100000, initial=20)


class GuestJoinForm(forms.Form):
    display_name = forms.CharField(max_length=120, label="Your name")


SECRET_FIELDS = ("jwt_secret", "jwt_private_key", "api_token", "webhook_secret", "access_secret")


class ProviderAccountForm(forms.ModelForm):
    """Secrets are write-only: the form never shows them, and an empty field keeps the stored value."""

    class Meta:
        model = ProviderAccount
        fields = ["name", "provider", "enabled", "is_default", "meet_domain", "default_region", "jwt_algorithm",
                  *SECRET_FIELDS]
        widgets = {name: forms.PasswordInput(render_value=False) for name in SECRET_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].widget = forms.Select(choices=[(k, n) for k, n in provider_choices() if k != "builtin"])
        self.fields["jwt_private_key"].widget = forms.Textarea(attrs={"rows": 3,
                                                                      "placeholder": "stored; paste to replace"})
        for name in SECRET_FIELDS:
            self.fields[name].required = False
            if self.instance.pk and getattr(self.instance, name):
                self.fields[name].help_text = "Stored. Leave empty to keep it."
        self.initial.update({name: "" for name in SECRET_FIELDS})

    def clean_meet_domain(self):
        domain = self.cleaned_data["meet_domain"].strip().lower().removeprefix("https://").rstrip("/")
        if not domain or "/" in domain or " " in domain:
            raise ValidationError("Give the bare host name, like meet.gcore.com or yourname.gvideo.co.")
        return domain

    def clean(self):
        cleaned = super().clean()
        for name in SECRET_FIELDS:
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        if cleaned.get("jwt_algorithm") == ProviderAccount.Algorithm.HS256 and cleaned.get("jwt_secret") and len(
                cleaned["jwt_secret"].encode()) < 32:
            self.add_error("jwt_secret", "HS256 needs a secret of at least 32 bytes (256 bits), as the seed says.")
        return cleaned

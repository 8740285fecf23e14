import zoneinfo
from datetime import datetime, timedelta
from email.utils import getaddresses

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import TIMEZONE_CHOICES, Membership, User
from portal.validators import validate_public_hostname, validate_single_line

from .models import INTERPRETATION_LANGUAGES, ROLES_BY_KIND, MeetingSettings, ProviderAccount, Role, Room
from .providers import PROVIDERS, get_provider, provider_choices
from .providers.base import COMMON_SETTINGS
from .recurrence import WEEKDAYS, build_rrule
from .services.invitations import ImportRow

SETTINGS_FIELDS = list(MeetingSettings.SETTING_FIELDS)
LAST_REPEAT_YEAR = 2199  # a series ending later overflows date arithmetic in zones west of UTC

# Settings that also need the provider to have a capability, and the capability each choice of a
# setting needs; everything else follows the providers' `settings_fields`.
SETTING_CAPABILITIES = {"waiting_room": "waiting_room", "recording_allowed": "recording"}
CHOICE_CAPABILITIES = {"kind": {"webinar": "webinar"}}
SETTING_LABELS = {
    "kind": _("Kind"),
    "waiting_room": _("Waiting room"),
    "raise_hand": _("Raise hand"),
    "chat_enabled": _("Chat"),
    "recording_allowed": _("Recording allowed"),
    "max_broadcasters": _("Max broadcasters"),
    "max_watchers": _("Max watchers"),
    "region": _("Region"),
    "interface_language": _("Interface language"),
    "provider": _("Provider"),
    "controls_disabled": _("Hide the room's main controls"),
    "hide_indicators": _("Hide names and icons in tiles"),
    "start_fullscreen": _("Start in full screen"),
    "sort_peers": _("Move people with cameras on up"),
    "minimize_tiles": _("Fit as many people on one screen"),
}
SETTING_HELP = {
    "max_broadcasters": _("People with camera or microphone at once; 0 means the provider's limit."),
    "max_watchers": _("Webinar viewers at once; 0 means no limit."),
}


def _has(cls, capability: str | None) -> bool:
    return capability is None or bool(getattr(cls.capabilities, capability))


def providers_honouring(name: str) -> list[str]:
    """The keys of the providers that act on the meeting setting `name`."""
    return [key for key, cls in PROVIDERS.items()
            if (name in COMMON_SETTINGS or name in cls.settings_fields) and _has(cls, SETTING_CAPABILITIES.get(name))]


class ProviderSelect(forms.Select):
    """A select whose options say, in data-providers, which providers offer them (absent: all), and
    in data-default-for, which providers take them as their default."""

    def __init__(self, *args, option_providers=None, option_defaults=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.option_providers = option_providers or {}
        self.option_defaults = option_defaults or {}

    def __deepcopy__(self, memo):
        copy = super().__deepcopy__(memo)
        copy.option_providers = dict(self.option_providers)
        copy.option_defaults = dict(self.option_defaults)
        return copy

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        keys = self.option_providers.get(str(value))
        if keys is not None:
            option["attrs"]["data-providers"] = " ".join(keys)
        if self.option_defaults.get(str(value)):
            option["attrs"]["data-default-for"] = " ".join(self.option_defaults[str(value)])
        return option


def _mark_providers(field, keys) -> None:
    """meetings/provider_fields.html puts these keys in the field wrapper's data-providers, for
    portal.js to show the field only while one of them is chosen."""
    field.provider_bound = True
    field.providers = " ".join(keys)


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
        raise ValidationError(_("Enter a date and time."), code="invalid")


class SettingsFieldsMixin:
    """The meeting settings of a room or meeting form: each field says which providers honour it, and
    a value the chosen provider does not honour is ignored (kept at its default), never an error."""

    def _setup_settings(self):
        self.fields["provider"] = forms.ChoiceField(choices=provider_choices(), initial="builtin",
                                                    label=SETTING_LABELS["provider"])
        self.fields["provider"].widget.attrs["data-provider-select"] = ""
        for name in ("max_broadcasters", "max_watchers"):
            self.fields[name].widget.attrs["min"] = 0
            self.fields[name].max_value = 100_000
            self.fields[name].validators.append(MaxValueValidator(100_000))
        for name, label in SETTING_LABELS.items():
            self.fields[name].label = label
        for name, text in SETTING_HELP.items():
            self.fields[name].help_text = text
        for name in SETTINGS_FIELDS:
            if name != "provider":
                _mark_providers(self.fields[name], providers_honouring(name))
        for name, capabilities in CHOICE_CAPABILITIES.items():
            field = self.fields[name]
            needs = {value: [key for key, cls in PROVIDERS.items() if _has(cls, capability)]
                     for value, capability in capabilities.items()}
            field.widget = ProviderSelect(choices=field.choices, option_providers=needs)

    def _ignore_unsupported_settings(self, cleaned: dict) -> None:
        key = cleaned.get("provider")
        if key not in PROVIDERS:
            return
        for name in SETTINGS_FIELDS:
            if name != "provider" and key not in providers_honouring(name):
                self._errors.pop(name, None)
                cleaned[name] = MeetingSettings._meta.get_field(name).get_default()


class RoomForm(SettingsFieldsMixin, forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name", *SETTINGS_FIELDS]
        labels = {"name": _("Name")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_settings()
        if not self.instance.pk:
            self.fields["max_broadcasters"].initial = 8
            self.fields["max_watchers"].initial = 20

    def clean(self):
        cleaned = super().clean()
        self._ignore_unsupported_settings(cleaned)
        return cleaned


INVITEE_ROLES = {value for value, _label in Role.choices}
INVITEES_MAX_LENGTH = 200_000


class InviteesField(forms.CharField):
    """People to invite while scheduling, one per line: `Name <address>` or `address`, optionally
    followed by `, role` and, for an interpreter, `, language`. Rows become the invitation import's
    ImportRows, checked there against the new meeting (roles of its kind, duplicates)."""

    widget = forms.Textarea(attrs={"rows": 4, "placeholder": "Ada Lovelace <ada@example.com>, moderator"})

    def __init__(self, **kwargs):
        super().__init__(max_length=INVITEES_MAX_LENGTH, required=False, **kwargs)

    def clean(self, value):
        text = super().clean(value)
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            if ">" in line:
                address, _sep, rest = line.partition(">")
                address += ">"
            else:
                address, _sep, rest = line.partition(",")
            extra = [part.strip().lower() for part in rest.split(",") if part.strip()]
            name, email = getaddresses([address])[0]
            row = ImportRow(line=number, email=email or address.strip(), name=name.strip(),
                            role=extra[0] if extra else "", language=extra[1] if len(extra) > 1 else "")
            if len(extra) > 2:
                row.problems.append(gettext("more after the address than a role and a language"))
            rows.append(row)
        return rows


class MeetingForm(SettingsFieldsMixin, forms.Form):
    FREQUENCIES = [("", _("Does not repeat")), ("daily", _("Daily")), ("weekly", _("Weekly")),
                   ("monthly", _("Monthly"))]
    DURATIONS = [(15, _("15 minutes")), (30, _("30 minutes")), (45, _("45 minutes")), (60, _("1 hour")),
                 (90, _("1½ hours")), (120, _("2 hours")), (180, _("3 hours")), (240, _("4 hours")),
                 (480, _("8 hours"))]
    ESSENTIALS = ("title", "start", "duration", "timezone", "room", "kind", "frequency")
    REPEAT = ("weekdays", "count", "until")
    MORE = ("description", "end", "provider", *[name for name in SETTINGS_FIELDS if name not in ("kind", "provider")])
    INVITES = ("invitees",)

    room = forms.ModelChoiceField(queryset=Room.objects.none(), to_field_name="code", empty_label=None,
                                  label=_("Room"), help_text=_("The meeting starts from the room's settings."))
    # The room whose defaults the settings fields were filled from (schedule.js keeps it current):
    # a setting still at that room's default follows the room finally chosen.
    settings_from = forms.CharField(required=False, widget=forms.HiddenInput, max_length=40)
    title = forms.CharField(max_length=200, validators=[validate_single_line], label=_("Title"))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Description"))
    start = LocalDateTimeField(label=_("Starts"))
    duration = forms.TypedChoiceField(choices=[*DURATIONS, ("", _("Other: set when it ends"))],
                                      coerce=int, empty_value=None, initial=60, required=False, label=_("Duration"))
    end = LocalDateTimeField(required=False, label=_("Or ends at"),
                             help_text=_("Instead of a duration, when the meeting ends."))
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES, label=_("Time zone"))
    frequency = forms.ChoiceField(choices=FREQUENCIES, required=False, label=_("Repeats"))
    weekdays = forms.MultipleChoiceField(choices=WEEKDAYS, required=False, widget=forms.CheckboxSelectMultiple,
                                         label=_("On"))
    count = forms.IntegerField(min_value=1, max_value=200, required=False, label=_("Ends after (occurrences)"))
    until = forms.DateField(required=False, label=_("or ends on"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(choices=MeetingSettings._meta.get_field("kind").choices)
    waiting_room = forms.BooleanField(required=False)
    raise_hand = forms.BooleanField(required=False)
    chat_enabled = forms.BooleanField(required=False)
    recording_allowed = forms.BooleanField(required=False)
    max_broadcasters = forms.IntegerField(min_value=0, max_value=100_000)
    max_watchers = forms.IntegerField(min_value=0, max_value=100_000)
    region = forms.ChoiceField(choices=MeetingSettings._meta.get_field("region").choices)
    interface_language = forms.ChoiceField(choices=MeetingSettings._meta.get_field("interface_language").choices,
                                           required=False)
    controls_disabled = forms.BooleanField(required=False)
    hide_indicators = forms.BooleanField(required=False)
    start_fullscreen = forms.BooleanField(required=False)
    sort_peers = forms.BooleanField(required=False)
    minimize_tiles = forms.BooleanField(required=False)
    invitees = InviteesField(label=_("Invite people"),
                             help_text=_("Optional. One per line: Name <address> or address, optionally followed "
                                         "by a comma and a role (and, for an interpreter, a language)."))

    def __init__(self, *args, organization, series_fields=True, new_room_allowed=False, invitees=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = Room.objects.of(organization)
        if new_room_allowed:
            self.fields["room"].required = False
            self.fields["room"].empty_label = _("My own room")
        self._setup_settings()
        if not series_fields:
            for name in ("frequency", *self.REPEAT):
                del self.fields[name]
        if not invitees:
            del self.fields["invitees"]

    def _group(self, names):
        return [self[name] for name in names if name in self.fields]

    def essentials(self):
        return self._group(self.ESSENTIALS)

    def repeat_fields(self):
        return self._group(self.REPEAT)

    def more_fields(self):
        return self._group(self.MORE)

    def invite_fields(self):
        return self._group(self.INVITES)

    def clean(self):
        cleaned = super().clean()
        self._ignore_unsupported_settings(cleaned)
        self._apply_room_defaults(cleaned)
        self._clean_times(cleaned)
        self._clean_repeat(cleaned)
        return cleaned

    def _apply_room_defaults(self, cleaned: dict) -> None:
        """Settings the host left at the defaults of the room the form showed take the chosen room's."""
        room, shown_code = cleaned.get("room"), cleaned.get("settings_from")
        if room is None or not shown_code or shown_code == room.code:
            return
        shown = self.fields["room"].queryset.filter(code=shown_code).first()
        shown_defaults = shown.settings_dict() if shown else {}
        for name, value in room.settings_dict().items():
            if name in cleaned and name not in self._errors and cleaned[name] == shown_defaults.get(name):
                cleaned[name] = value

    def _clean_times(self, cleaned: dict) -> None:
        tz, start = cleaned.get("timezone"), cleaned.get("start")
        if not (tz and start):
            return
        zone = zoneinfo.ZoneInfo(tz)
        cleaned["start"] = start.replace(tzinfo=zone)
        if cleaned.get("end"):
            cleaned["end"] = cleaned["end"].replace(tzinfo=zone)
        elif cleaned.get("duration"):
            cleaned["end"] = cleaned["start"] + timedelta(minutes=cleaned["duration"])
        else:
            self.add_error("duration", _("Choose how long the meeting lasts, or when it ends."))
            return
        if cleaned["end"] <= cleaned["start"]:
            self.add_error("end", _("The meeting must end after it starts."))

    def _clean_repeat(self, cleaned: dict) -> None:
        if "frequency" not in self.fields:
            return
        if not cleaned.get("frequency"):  # the repeat fields are hidden then: what they hold does not count
            for name in self.REPEAT:
                self._errors.pop(name, None)
                cleaned[name] = [] if name == "weekdays" else None
            return
        if cleaned["frequency"] != "weekly":
            self._errors.pop("weekdays", None)
            cleaned["weekdays"] = []
        if cleaned["frequency"] == "weekly" and not cleaned.get("weekdays") and "weekdays" not in self._errors:
            self.add_error("weekdays", _("Choose the weekdays it repeats on."))
        if not cleaned.get("count") and not cleaned.get("until") and "count" not in self._errors:
            self.add_error("count", _("Say when the series ends: after a number of occurrences or on a date."))
        if cleaned.get("count") and cleaned.get("until"):
            self.add_error("until", _("Give either a number of occurrences or an end date, not both."))
        if cleaned.get("until") and cleaned.get("start") and cleaned["until"] < cleaned["start"].date():
            self.add_error("until", _("The series cannot end before it starts."))
        if cleaned.get("until") and cleaned["until"].year > LAST_REPEAT_YEAR:
            self.add_error("until", _("Give an end date before %(year)d.") % {"year": LAST_REPEAT_YEAR + 1})

    def rrule(self) -> str:
        data = self.cleaned_data
        return build_rrule(frequency=data.get("frequency", ""), weekdays=data.get("weekdays") or [],
                           count=data.get("count"), until=data.get("until"), tz=data["timezone"])

    def settings(self) -> dict:
        return {name: self.cleaned_data[name] for name in SETTINGS_FIELDS}


class OccurrenceForm(forms.Form):
    title = forms.CharField(max_length=200, validators=[validate_single_line], label=_("Title"))
    start = LocalDateTimeField(label=_("Starts"))
    end = LocalDateTimeField(label=_("Ends"))

    def __init__(self, *args, timezone_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(timezone_name)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end"):
            cleaned["start"] = cleaned["start"].replace(tzinfo=self.zone)
            cleaned["end"] = cleaned["end"].replace(tzinfo=self.zone)
            if cleaned["end"] <= cleaned["start"]:
                self.add_error("end", _("The meeting must end after it starts."))
        return cleaned


LANGUAGE_CHOICES = [("", _("Choose a language")), *INTERPRETATION_LANGUAGES]


def role_choices(kind: str) -> list[tuple[str, str]]:
    """The roles a meeting of this kind has, in the order of Role (calls have no speakers or viewers)."""
    return [(value, label) for value, label in Role.choices if value in ROLES_BY_KIND[kind]]


class RoleFieldsMixin:
    """A role menu with only the roles of the meeting's kind, and the interpreter's language, which the
    page shows only when the role is interpreter (data-show-when-role)."""

    def _set_up_roles(self, kind: str) -> None:
        self.fields["role"] = forms.ChoiceField(label=_("Role"), choices=role_choices(kind),
                                                widget=forms.Select(attrs={"data-role-select": ""}))
        self.fields["language"] = forms.ChoiceField(
            label=_("Interprets into"), choices=LANGUAGE_CHOICES, required=False,
            widget=forms.Select(attrs={"data-show-when-role": Role.INTERPRETER}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == Role.INTERPRETER and not cleaned.get("language"):
            self.add_error("language", _("Choose the language this interpreter speaks into."))
        return cleaned


class InviteForm(RoleFieldsMixin, forms.Form):
    email = forms.EmailField(label=_("Email"))
    display_name = forms.CharField(max_length=120, required=False, label=_("Name"), validators=[validate_single_line])

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_up_roles(kind)


class InviteMembersForm(RoleFieldsMixin, forms.Form):
    members = forms.ModelMultipleChoiceField(label=_("Members"), queryset=User.objects.none(),
                                             widget=forms.CheckboxSelectMultiple,
                                             error_messages={"required": _("Tick at least one member.")})

    def __init__(self, *args, organization, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = (User.objects.filter(memberships__organization=organization, is_active=True)
                                           .order_by("full_name", "email"))
        self.fields["members"].label_from_instance = lambda user: f"{user.display_name} <{user.email}>"
        self._set_up_roles(kind)


class PasteForm(RoleFieldsMixin, forms.Form):
    addresses = forms.CharField(label=_("Addresses"), widget=forms.Textarea(attrs={"rows": 4}),
                                help_text=_("One per line, or separated by commas. Name <address> works too."))

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_up_roles(kind)


class CsvForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_(
        "Columns: email, name, role, language (a language code such as de or fr, for interpreters). "
        "The first row names the columns."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 1_000_000:
            raise ValidationError(_("The file is larger than 1 MB."))
        return upload


class RoleChangeForm(RoleFieldsMixin, forms.Form):
    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_up_roles(kind)


class TransferForm(forms.Form):
    new_owner = forms.ModelChoiceField(queryset=User.objects.none(), label=_("New owner"))

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        hosts = [Membership.Role.HOST, Membership.Role.ADMIN, Membership.Role.OWNER]
        self.fields["new_owner"].queryset = User.objects.filter(
            memberships__organization=organization, memberships__role__in=hosts).order_by("email")


class OpenLinkForm(forms.Form):
    capacity = forms.IntegerField(label=_("Viewers at once"), min_value=1)

    def __init__(self, *args, most: int, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["capacity"]
        field.max_value = most
        field.validators.append(MaxValueValidator(most))
        field.widget.attrs["max"] = most
        field.initial = min(20, most)
        field.help_text = _("At most %(most)s: what this meeting's video provider and settings hold.") % {"most": most}


class GuestJoinForm(forms.Form):
    display_name = forms.CharField(max_length=120, label=_("Your name"), validators=[validate_single_line])


def _union(attribute: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for cls in PROVIDERS.values() for name in getattr(cls, attribute)))


# Every provider's secrets: write-only, encrypted, never shown again.
SECRET_FIELDS = _union("secret_fields")
ACCOUNT_COMMON_FIELDS = ("name", "provider", "enabled", "is_default")
# Account fields the portal fills in itself (the page shows them, nobody types them).
GENERATED_ACCOUNT_FIELDS = ("jwt_public_key",)
# What a provider may name in account_fields/secret_fields: every field a person may type.
ACCOUNT_CANDIDATE_FIELDS = tuple(
    f.name for f in ProviderAccount._meta.concrete_fields
    if f.editable and not f.primary_key and f.name not in ("organization", *GENERATED_ACCOUNT_FIELDS))


def account_providers() -> dict:
    """The providers that keep an account (anything to configure); the others need none."""
    return {key: cls for key, cls in PROVIDERS.items() if cls.account_fields or cls.secret_fields}


def account_fields_of(cls) -> tuple[str, ...]:
    return tuple(name for name in (*cls.account_fields, *cls.secret_fields) if name in ACCOUNT_CANDIDATE_FIELDS)


def account_form_fields() -> list[str]:
    """The account form's fields: the common ones, then what some provider asks for, in its order."""
    named = dict.fromkeys(name for cls in account_providers().values() for name in account_fields_of(cls))
    return [*ACCOUNT_COMMON_FIELDS, *(name for name in named if name not in ACCOUNT_COMMON_FIELDS)]


SHORT_HS256_SECRET = _("HS256 needs a secret of at least 32 bytes (256 bits), as the seed says.")


def _mode_label(mode: str) -> str:
    return str(ProviderAccount.JoinMode(mode).label).split(":")[0]


def https_by_default(field, **kwargs):
    """Form fields for model fields; a URL typed without a scheme means https (a provider server is
    never plain http)."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class ProviderAccountForm(forms.ModelForm):
    """Shows each provider's own fields (marked for portal.js to show only the chosen provider's).
    Secrets are write-only: the form never shows them, and an empty field keeps the stored value."""

    class Meta:
        model = ProviderAccount
        fields = list(ACCOUNT_CANDIDATE_FIELDS)
        formfield_callback = https_by_default
        labels = {
            "name": _("Name"), "provider": _("Provider"), "enabled": _("Enabled"),
            "is_default": _("Default for new meetings"), "meet_domain": _("Meet domain"),
            "join_mode": _("Join mode"), "space_host": _("Space"), "project_id": _("Project id"),
            "server_url": _("Server URL"), "api_key": _("API key"), "api_secret": _("API secret"),
            "key_id": _("Key id"), "jwt_audience": _("Token audience"), "default_region": _("Default region"),
            "jwt_algorithm": _("Token signing"), "jwt_secret": _("Signing secret"),
            "jwt_private_key": _("Private key"), "api_token": _("API token"),
            "webhook_secret": _("Webhook secret"), "access_secret": _("Access secret"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        providers = account_providers()
        keep = account_form_fields()
        for name in [name for name in self.fields if name not in keep and name in ACCOUNT_CANDIDATE_FIELDS]:
            del self.fields[name]
        self.order_fields([name for name in self.fields if name not in keep] + keep)
        self.fields["provider"].widget = forms.Select(choices=[(key, cls.name) for key, cls in providers.items()])
        self.fields["provider"].widget.attrs["data-provider-select"] = ""
        for name in keep:
            if name not in ACCOUNT_COMMON_FIELDS:
                _mark_providers(self.fields[name],
                                [key for key, cls in providers.items() if name in account_fields_of(cls)])
        secrets = [name for name in _union("secret_fields") if name in self.fields]
        for name in secrets:
            self.fields[name].widget = forms.PasswordInput(render_value=False)
            self.fields[name].required = False
            if self.instance.pk and getattr(self.instance, name):
                self.fields[name].help_text = _("Stored. Leave empty to keep it.")
        if "jwt_private_key" in secrets:
            self.fields["jwt_private_key"].widget = forms.Textarea(attrs={"rows": 3,
                                                                          "placeholder": _("stored; paste to replace")})
        self.initial.update({name: "" for name in secrets})
        self.secret_names = secrets
        if "join_mode" in self.fields:
            field = self.fields["join_mode"]
            modes = _union("join_modes")
            field.required = False
            field.choices = [(mode, _mode_label(mode)) for mode in modes]
            by_mode = {mode: [key for key, cls in providers.items() if mode in cls.join_modes] for mode in modes}
            defaults = {mode: [key for key, cls in providers.items() if cls.join_modes[:1] == (mode,)]
                        for mode in modes}
            field.widget = ProviderSelect(choices=field.choices, option_providers=by_mode, option_defaults=defaults)
            field.help_text = _("What each mode gives up:")
            field.choice_help = [(" ".join(by_mode[mode]), ProviderAccount.JoinMode(mode).label) for mode in modes]

    def clean_meet_domain(self):
        # A pasted address of the domain's front page is fine; anything more is refused by the validator.
        domain = self.cleaned_data["meet_domain"].strip().lower().removeprefix("https://").removesuffix("/")
        validate_public_hostname(domain)
        return domain

    def clean(self):
        cleaned = super().clean()
        for name in self.secret_names:
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        key = cleaned.get("provider")
        cls = account_providers().get(key)
        if cls is None:
            if key is not None:
                self.add_error("provider", _("Choose a provider that takes an account."))
            return cleaned
        own = account_fields_of(cls)
        for name in self.fields:
            if name in ACCOUNT_CANDIDATE_FIELDS and name not in ACCOUNT_COMMON_FIELDS and name not in own:
                # Another provider's field: whatever was sent is ignored and the stored value kept.
                self._errors.pop(name, None)
                cleaned[name] = getattr(self.instance, name)
        if "join_mode" in own:
            self._clean_join_mode(cls, key, cleaned)
        problems = get_provider(key).account_problems(dict(cleaned))
        if ("jwt_secret" in own and "jwt_secret" not in problems and cleaned.get("jwt_secret")
                and cleaned.get("jwt_algorithm") == ProviderAccount.Algorithm.HS256
                and len(cleaned["jwt_secret"].encode()) < 32):
            problems["jwt_secret"] = SHORT_HS256_SECRET
        for name, message in problems.items():
            if name in self.fields:
                self.add_error(name, message)
            else:
                label = ProviderAccount._meta.get_field(name).verbose_name if name in ACCOUNT_CANDIDATE_FIELDS else name
                self.add_error(None, f"{str(label).capitalize()}: {message}")
        return cleaned

    def _clean_join_mode(self, cls, key: str, cleaned: dict) -> None:
        modes = cls.join_modes
        mode = cleaned.get("join_mode")
        if not modes:
            return
        provider_changed = self.instance.provider != key
        if not mode or (provider_changed and mode not in modes):
            self._errors.pop("join_mode", None)
            cleaned["join_mode"] = modes[0]
        elif mode not in modes:
            offered = "; ".join(_mode_label(m) for m in modes)
            self.add_error("join_mode", _("%(provider)s does not offer this join mode. It offers: %(offered)s.")
                           % {"provider": cls.name, "offered": offered})

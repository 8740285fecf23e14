import zoneinfo

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from portal.validators import validate_single_line

from .models import LOCALE_CHOICES, ApiKey, Membership, Organization, User

TIMEZONE_NAMES = frozenset(zoneinfo.available_timezones())


class SignInForm(forms.Form):
    identifier = forms.CharField(
        label="Work email or organization short name", max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username",
                                      "placeholder": "you@example.com or your-organization"}))


class PasswordSignInForm(AuthenticationForm):
    username = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autocomplete": "username"}))


class MemberAddForm(forms.Form):
    email = forms.EmailField()
    full_name = forms.CharField(max_length=120, required=False, label="Name (optional)",
                                validators=[validate_single_line])
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "timezone"]



class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, validators=[validate_single_line],
                           help_text="What uses it, e.g. “LMS sync”.")
    scopes = forms.MultipleChoiceField(choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       initial=[ApiKey.Scope.READ])
    expires_on = forms.DateField(required=False, label="Expires on", widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="The key works through the end of that day in your time zone. "
                                           "Empty: until revoked.")


# --- Organization settings -------------------------------------------------------------------------

PORTAL_LOCALES = ("en", "de", "fr", "es")


class ZoneField(forms.CharField):
    """An IANA time zone name, typed with suggestions (a datalist) rather than picked from 600 options."""

    def __init__(self, **kwargs):
        super().__init__(max_length=64, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value and value not in TIMEZONE_NAMES:
            raise forms.ValidationError(_("“%(zone)s” is not a time zone name. Pick one from the list, "
                                          "like Europe/Berlin."), params={"zone": value[:64]})
        return value


class OrganizationSettingsForm(forms.ModelForm):
    timezone = ZoneField(label=_("Time zone"), widget=forms.TextInput(attrs={"list": "timezone-names",
                                                                           "autocomplete": "off"}),
                         help_text=_("Times are shown in this zone to members who have not chosen their own."))
    default_locale = forms.ChoiceField(label=_("Default language"), help_text=_(
        "For people whose own setting and browser name no language the portal speaks."))

    class Meta:
        model = Organization
        fields = ["name", "timezone", "default_locale"]
        labels = {"name": _("Name")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_locale"].choices = [(code, label) for code, label in LOCALE_CHOICES
                                                 if code in PORTAL_LOCALES]

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("The organization needs a name."))
        return name


class TimezoneSaveForm(forms.Form):
    timezone = ZoneField()

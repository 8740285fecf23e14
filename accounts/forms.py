from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from portal.validators import validate_single_line

from .models import ApiKey, Membership, User


class SignInForm(forms.Form):
    identifier = forms.CharField(
        label=_("Work email or organization short name"), max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username",
                                      "placeholder": _("you@example.com or your-organization")}))


class PasswordSignInForm(AuthenticationForm):
    username = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "username"}))


class MemberAddForm(forms.Form):
    email = forms.EmailField()
    full_name = forms.CharField(max_length=120, required=False, label="Name (optional)",
                                validators=[validate_single_line])
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class ProfileForm(forms.ModelForm):
    language = forms.ChoiceField(
        label=_("Language"), required=False,
        choices=[("", _("Automatic: your browser's, else the organization's"))] + list(settings.LANGUAGES))

    class Meta:
        model = User
        fields = ["full_name", "timezone", "language"]



class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, validators=[validate_single_line],
                           help_text="What uses it, e.g. “LMS sync”.")
    scopes = forms.MultipleChoiceField(choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       initial=[ApiKey.Scope.READ])
    expires_on = forms.DateField(required=False, label="Expires on", widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="The key works through the end of that day in your time zone. "
                                           "Empty: until revoked.")

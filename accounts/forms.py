import re
import zoneinfo
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from portal.validators import public_hostname_problem, validate_single_line

from .models import LOCALE_CHOICES, ApiKey, IdentityProvider, Membership, Organization, User

TIMEZONE_NAMES = frozenset(zoneinfo.available_timezones())


class SignInForm(forms.Form):
    identifier = forms.CharField(
        label=_("Work email or organization short name"), max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username",
                                      "placeholder": _("you@example.com or your-organization")}))


class PasswordSignInForm(AuthenticationForm):
    username = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "username"}))


class MemberAddForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    full_name = forms.CharField(max_length=120, required=False, label=_("Name (optional)"),
                                validators=[validate_single_line])
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class ProfileForm(forms.ModelForm):
    language = forms.ChoiceField(
        label=_("Language"), required=False,
        choices=[("", _("Automatic: your browser's, else the organization's"))] + list(settings.LANGUAGES))

    class Meta:
        model = User
        fields = ["full_name", "timezone", "language"]
        labels = {"full_name": _("Full name"), "timezone": _("Time zone")}



class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, validators=[validate_single_line],
                           label=_("Name"), help_text=_("What uses it, e.g. “LMS sync”."))
    scopes = forms.MultipleChoiceField(choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       initial=[ApiKey.Scope.READ], label=_("Scopes"))
    expires_on = forms.DateField(required=False, label=_("Expires on"), widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("The key works through the end of that day in your time zone. "
                                             "Empty: until revoked."))


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


# --- Identity provider -----------------------------------------------------------------------------

GROUP_ROLE_CHOICES = [(Membership.Role.ADMIN, Membership.Role.ADMIN.label), (Membership.Role.HOST,
                      Membership.Role.HOST.label), (Membership.Role.MEMBER, Membership.Role.MEMBER.label)]
MAX_GROUP_ROWS = 100
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 scope-token


class IdentityProviderForm(forms.ModelForm):
    """The organization's OpenID Connect settings. The client secret is write-only: empty keeps the
    saved one. Group → role rows come as parallel lists group_name / group_role."""

    issuer = forms.URLField(label=_("Issuer URL"), max_length=200, assume_scheme="https", help_text=_(
        "Its /.well-known/openid-configuration must name exactly this issuer; it is read when you save."))
    client_secret = forms.CharField(label=_("Client secret"), required=False, max_length=500, strip=True,
                                    widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}))

    class Meta:
        model = IdentityProvider
        fields = ["enabled", "issuer", "client_id", "client_secret", "scopes", "allowed_email_domains",
                  "groups_claim", "provision_unknown_users"]
        labels = {"enabled": _("Sign people in through this identity provider"),
                  "client_id": _("Client ID"), "scopes": _("Scopes"),
                  "allowed_email_domains": _("Allowed email domains"), "groups_claim": _("Groups claim"),
                  "provision_unknown_users": _("Add people the portal does not know yet at their first sign-in")}
        help_texts = {
            "scopes": _("Separated by spaces; must include openid."),
            "allowed_email_domains": _("Comma-separated, like example.com, example.org. People of these domains "
                                       "are sent to this provider from the sign-in page; when set, only verified "
                                       "addresses of these domains may sign in."),
            "groups_claim": _("The ID token or userinfo claim that lists the person's groups."),
            "provision_unknown_users": _("Only for verified addresses of the allowed domains. Off: people must be "
                                         "added on the Members tab first."),
            "enabled": _("Off: everyone signs in with a password until you turn it on; the test below still works."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.secret_is_set = bool(self.instance.pk and self.instance.client_secret)
        self.fields["client_secret"].help_text = (
            _("A secret is set. Leave this empty to keep it; type a new one to replace it.") if self.secret_is_set
            else _("The secret the identity provider gave the portal's client."))
        self.fields["groups_claim"].required = False
        names = self.data.getlist("group_name") if self.is_bound else list(self.instance.group_roles or {})
        roles = (self.data.getlist("group_role") if self.is_bound
                 else [self.instance.group_roles[name] for name in names])
        self.group_rows = [{"name": name, "role": role} for name, role in zip(names, roles, strict=False)]
        self.group_errors: list[str] = []

    def clean_issuer(self):
        issuer = self.cleaned_data["issuer"].strip()
        parts = urlsplit(issuer)
        loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
        if parts.scheme != "https" and not loopback:
            raise forms.ValidationError(_("The issuer must be an https:// address."))
        if parts.query or parts.fragment or parts.username or parts.password:
            raise forms.ValidationError(_("Give the issuer URL only: no query, fragment or user name."))
        return issuer

    def clean_client_id(self):
        value = self.cleaned_data["client_id"].strip()
        validate_single_line(value)
        return value

    def clean_client_secret(self):
        secret = self.cleaned_data.get("client_secret", "")
        if secret:
            validate_single_line(secret)
            return secret
        if not self.secret_is_set:
            raise forms.ValidationError(_("Give the client secret."))
        if self._names_another_client():
            # The saved secret goes only to the issuer and client it was given for.
            raise forms.ValidationError(_("Give the client secret again: the issuer or client ID changed."))
        return self.instance.client_secret

    def _names_another_client(self) -> bool:
        """issuer and client_id are cleaned before client_secret (the fields' order)."""
        return any(name in self.cleaned_data and self.cleaned_data[name] != getattr(self.instance, name)
                   for name in ("issuer", "client_id"))

    def clean_scopes(self):
        scopes = self.cleaned_data["scopes"].split()
        if any(not _SCOPE.match(scope) for scope in scopes):
            raise forms.ValidationError(_("Scopes are plain words separated by spaces, like: openid email profile."))
        if "openid" not in scopes:
            raise forms.ValidationError(_("The scopes must include openid."))
        return " ".join(dict.fromkeys(scopes))

    def clean_allowed_email_domains(self):
        typed = re.split(r"[,\s]+", self.cleaned_data["allowed_email_domains"])
        domains = [d.strip().lower().lstrip("@") for d in typed if d.strip()]
        for domain in domains:
            if problem := public_hostname_problem(domain, private_names_allowed=True):
                raise forms.ValidationError(_("“%(domain)s”: %(problem)s"), params={"domain": domain[:80],
                                                                                    "problem": problem})
        joined = ", ".join(dict.fromkeys(domains))
        if len(joined) > IdentityProvider._meta.get_field("allowed_email_domains").max_length:
            raise forms.ValidationError(_("Too many domains for one identity provider."))
        return joined

    def clean_groups_claim(self):
        value = self.cleaned_data["groups_claim"].strip()
        validate_single_line(value)
        return value

    def clean(self):
        cleaned = super().clean()
        mapping = {}
        if len(self.group_rows) > MAX_GROUP_ROWS:
            self.group_errors.append(_("At most %(count)d groups.") % {"count": MAX_GROUP_ROWS})
        for row in self.group_rows[:MAX_GROUP_ROWS]:
            name, role = row["name"].strip(), row["role"]
            if not name:
                continue  # an empty row is an unused one
            if len(name) > 200 or "\x00" in name or any(c in name for c in "\r\n"):
                self.group_errors.append(_("“%(group)s…”: a group name is one line of at most 200 characters.")
                                         % {"group": name[:40].replace("\x00", "")})
            elif role not in dict(GROUP_ROLE_CHOICES):
                self.group_errors.append(_("“%(group)s”: choose admin, host or member.") % {"group": name})
            elif name in mapping:
                self.group_errors.append(_("“%(group)s” is listed twice.") % {"group": name})
            else:
                mapping[name] = role
        if mapping and not cleaned.get("groups_claim"):
            self.add_error("groups_claim", _("Name the groups claim, or remove the group rows."))
        if self.group_errors:
            raise forms.ValidationError(_("Fix the group rows below."))
        cleaned["group_roles"] = mapping
        return cleaned

    def save(self, commit=True):
        self.instance.group_roles = self.cleaned_data["group_roles"]
        return super().save(commit)


# --- Members in bulk -------------------------------------------------------------------------------

class MemberBulkForm(forms.Form):
    people = forms.CharField(
        label=_("People"), required=False, max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 5,
                                     "placeholder": "ada@example.com\nGrace Hopper <grace@example.com>, host"}),
        help_text=_("One per line: an address, or Name <address>; add “, role” to give that person another role."))
    file = forms.FileField(label=_("Or a CSV file"), required=False,
                           help_text=_("Columns: email, name, role. The first row names the columns."))
    role = forms.ChoiceField(label=_("Role, where a line names none"), choices=Membership.Role.choices,
                             initial=Membership.Role.MEMBER)

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and upload.size > 1_000_000:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        return upload

    def clean(self):
        cleaned = super().clean()
        people, upload = cleaned.get("people", "").strip(), cleaned.get("file")
        if not self.errors and bool(people) == bool(upload):
            raise forms.ValidationError(_("Paste a list or choose a CSV file (one of the two)."))
        return cleaned

from datetime import datetime, time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from portal import http, ratelimit

from . import api_keys, oidc, selectors, services
from .forms import (
    GROUP_ROLE_CHOICES,
    TIMEZONE_NAMES,
    ApiKeyForm,
    IdentityProviderForm,
    MemberAddForm,
    MemberBulkForm,
    MemberRoleForm,
    OrganizationSettingsForm,
    PasswordSignInForm,
    ProfileForm,
    SignInForm,
    TimezoneSaveForm,
)
from .models import ApiKey, IdentityProvider, Membership, MembershipInvitation, Organization
from .oidc import SESSION_ACTIVE_ORG
from .tenancy import get_scoped_or_404, organization_view

MEMBERS_PER_PAGE = 50


def sign_in(request):
    """The sign-in page: an email address or an organization's short name picks the way in."""
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "POST":
        attempt = ratelimit.Attempt(ratelimit.sign_in_lookup_limit(request))
        if not attempt.allowed:
            return ratelimit.refused(request, attempt.retry_after)
    form = SignInForm(request.POST or None)
    choices = None
    if request.method == "POST" and form.is_valid():
        identifier = form.cleaned_data["identifier"].strip().lower()
        next_query = "?" + urlencode({"next": request.GET["next"]}) if request.GET.get("next") else ""
        if "@" in identifier:
            providers = selectors.identity_providers_for_email(identifier)
            if len(providers) == 1:
                return redirect(reverse("oidc_authentication_init", args=[providers[0].organization.slug]) + next_query)
            if len(providers) > 1:
                choices = [p.organization for p in providers]
            else:
                # No identity provider claims this domain: password sign-in, whether or not the
                # address has an account (the page must not tell).
                request.session["sign_in_email"] = identifier
                return redirect(reverse("password_login") + next_query)
        else:
            organization = selectors.organization_by_slug(identifier)
            if organization is None:
                form.add_error("identifier", _("No organization has that short name. Check the spelling, "
                                               "or enter your work email address."))
            elif hasattr(organization, "identity_provider") and organization.identity_provider.enabled:
                return redirect(reverse("oidc_authentication_init", args=[organization.slug]) + next_query)
            else:
                return redirect(reverse("password_login") + next_query)
    return render(request, "accounts/sign_in.html", {"form": form, "choices": choices})


class PasswordSignInView(auth_views.LoginView):
    template_name = "accounts/password_sign_in.html"
    form_class = PasswordSignInForm
    redirect_authenticated_user = True

    def get_initial(self):
        return {"username": self.request.session.get("sign_in_email", "")}

    def post(self, request, *args, **kwargs):
        attempt = ratelimit.Attempt(*ratelimit.sign_in_limits("password", request, request.POST.get("username", "")))
        if not attempt.allowed:
            return ratelimit.refused(request, attempt.retry_after)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            attempt.succeeded()
        return response


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """Django's set-password step, where a link that does not work counts like a wrong password."""
    template_name = "accounts/password_set.html"
    success_url = "/password/set/done/"

    def dispatch(self, request, *args, **kwargs):
        user = self.get_user(kwargs["uidb64"])
        account = str(user.pk) if user else kwargs["uidb64"]
        attempt = ratelimit.Attempt(*ratelimit.sign_in_limits("password-set", request, account))
        if not attempt.allowed:
            return ratelimit.refused(request, attempt.retry_after)
        response = super().dispatch(request, *args, **kwargs)
        if self.validlink or response.status_code == 302:  # a working link redirects to the form
            attempt.succeeded()
        return response


@login_required
def home(request):
    slug = request.session.get(SESSION_ACTIVE_ORG)
    memberships = request.user.memberships.select_related("organization").order_by("organization__name")
    membership = memberships.filter(organization__slug=slug).first() or memberships.first()
    if membership is None:
        return render(request, "accounts/no_organization.html")
    return redirect("organization_home", membership.organization.slug)


@organization_view()
def member_list(request):
    add_form = MemberAddForm(request.POST or None)
    if request.method == "POST" and add_form.is_valid():
        try:
            membership = services.membership_add(
                organization=request.organization, added_by=request.membership, **add_form.cleaned_data)
        except ValidationError as error:
            add_form.add_error("email", error)
        except PermissionDenied as error:
            add_form.add_error(None, str(error))
        else:
            if isinstance(membership, MembershipInvitation):
                messages.success(request, _("%(email)s already has an account, so they were sent an invitation. "
                                            "They join once they accept it.") % {"email": membership.email})
            else:
                messages.success(request, _("%(email)s was added as %(role)s.") % {
                    "email": membership.user.email, "role": membership.get_role_display()})
            return redirect("member_list", request.organization.slug)
    return _member_page(request, add_form=add_form)


def _member_page(request, **context):
    search = request.GET.get("q", "").strip()
    page = Paginator(selectors.membership_list(organization=request.organization, search=search),
                     MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    pending = (MembershipInvitation.objects.of(request.organization)
               .filter(accepted_at__isnull=True, expires_at__gt=timezone.now())
               if request.membership.can_manage_members else [])
    return render(request, "accounts/member_list.html", {
        "page": page, "search": search, "roles": Membership.Role.choices, "pending": pending,
        "add_form": MemberAddForm(), "bulk_form": MemberBulkForm(), **context})


@organization_view(minimum_role=Membership.Role.ADMIN)
@require_POST
def member_bulk_add(request):
    """A pasted list or a CSV: everyone is added, or nobody, with a report per row."""
    form = MemberBulkForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        try:
            upload = form.cleaned_data["file"]
            rows = (services.parse_member_csv(upload.read()) if upload
                    else services.parse_member_lines(form.cleaned_data["people"]))
            report, added = services.memberships_add_in_bulk(
                organization=request.organization, rows=rows, added_by=request.membership,
                default_role=form.cleaned_data["role"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if added:
                invited = sum(1 for row in report if row.outcome == "invited")
                messages.success(request, ngettext(
                    "%(count)d person was added.", "%(count)d people were added.", len(report) - invited)
                    % {"count": len(report) - invited} + (" " + ngettext(
                        "%(count)d already had an account and was sent an invitation to accept.",
                        "%(count)d already had an account and were sent an invitation to accept.", invited)
                        % {"count": invited} if invited else ""))
                return redirect("member_list", request.organization.slug)
    return _member_page(request, bulk_form=form, report=report)


def membership_invite(request, token):
    """/invites/<token>/: the emailed link; the person accepts signed in as the invited account."""
    invitation = services.membership_invitation_for_token(token)
    if invitation is None:
        raise Http404(_("No such invitation."))
    if not invitation.is_open:
        state = "closed"
    elif not request.user.is_authenticated:
        state = "sign_in"
    elif request.user.email != invitation.email:
        state = "other_account"
    else:
        state = "ready"
    if request.method == "POST" and state == "ready":
        try:
            membership = services.membership_invitation_accept(invitation=invitation, user=request.user)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("You joined %(name)s.") % {"name": membership.organization.name})
            return redirect("organization_home", membership.organization.slug)
    return render(request, "accounts/membership_invite.html", {"invitation": invitation, "state": state},
                  status=410 if state == "closed" else 200)


@organization_view(minimum_role=Membership.Role.ADMIN)
def member_change_role(request, member_code):
    membership = get_scoped_or_404(Membership.objects.select_related("user", "organization"),
                                   request.organization, code=member_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = MemberRoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_change_role(membership=membership, role=form.cleaned_data["role"],
                                            changed_by=request.membership)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("%(email)s is now %(role)s.") % {
                "email": membership.user.email, "role": membership.get_role_display()})
    return redirect("member_list", request.organization.slug)


@organization_view()
def member_remove(request, member_code):
    membership = get_scoped_or_404(Membership.objects.select_related("user", "organization"),
                                   request.organization, code=member_code)
    leaving = membership.pk == request.membership.pk
    if not leaving and not request.membership.can_manage_members:
        raise PermissionDenied(_("Only owners and admins remove members."))
    if request.method == "POST":
        try:
            services.membership_remove(membership=membership, removed_by=request.membership)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
            return redirect("member_list", request.organization.slug)
        if leaving:
            messages.success(request, _("You left %(name)s.") % {"name": request.organization.name})
            return redirect("home")
        messages.success(request, _("%(email)s was removed from %(name)s.") % {
            "email": membership.user.email, "name": request.organization.name})
        return redirect("member_list", request.organization.slug)
    return render(request, "accounts/member_remove_confirm.html", {"target": membership, "leaving": leaving})


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile was saved."))
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form})


# --- API keys --------------------------------------------------------------------------------------

NEW_KEY = "new_api_key"


@organization_view(minimum_role=Membership.Role.ADMIN)
def api_key_list(request):
    """The organization's API keys; a new key's full text is shown once, on the page after it is made."""
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        expires_on = form.cleaned_data["expires_on"]
        expires_at = None
        if expires_on:
            zone = timezone.get_current_timezone()
            expires_at = timezone.make_aware(datetime.combine(expires_on, time.max.replace(microsecond=0)), zone)
        try:
            key, raw = api_keys.api_key_create(organization=request.organization, created_by=request.user,
                                               name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
                                               expires_at=expires_at)
        except ValidationError as error:
            form.add_error("expires_on" if "expires_at" in getattr(error, "error_dict", {}) else None,
                           " ".join(error.messages))
        else:
            request.session[NEW_KEY] = {"code": key.code, "key": raw}
            return redirect("api_key_list", request.organization.slug)
    new_key = request.session.pop(NEW_KEY, None)
    keys = ApiKey.objects.of(request.organization).select_related("created_by")
    page = Paginator(keys, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/api_keys.html", {"form": form, "page": page, "new_key": new_key,
                                                      "now": timezone.now()})


@organization_view(minimum_role=Membership.Role.ADMIN)
def api_key_revoke(request, key_code):
    key = get_scoped_or_404(ApiKey, request.organization, code=key_code)
    if request.method == "POST":
        api_keys.api_key_revoke(key=key)
        messages.success(request, _("The key “%(name)s” was revoked; calls with it now answer 401.")
                         % {"name": key.name})
        return redirect("api_key_list", request.organization.slug)
    return render(request, "accounts/api_key_revoke.html", {"key": key})


# --- Organization settings -------------------------------------------------------------------------

@organization_view(minimum_role=Membership.Role.ADMIN)
def organization_settings(request):
    # A copy: a refused form must not rename the organization in this page's header.
    form = OrganizationSettingsForm(request.POST or None, instance=Organization.objects.get(pk=request.organization.pk))
    if request.method == "POST" and form.is_valid():
        services.organization_update(organization=request.organization, **form.cleaned_data)
        messages.success(request, _("The organization's settings were saved."))
        return redirect("organization_settings", request.organization.slug)
    return render(request, "accounts/organization_settings.html", {
        "form": form, "timezone_names": sorted(TIMEZONE_NAMES)})


@login_required
@require_POST
def profile_timezone(request):
    """The time-zone notice's "Use <zone>" button: the browser's zone becomes the person's own."""
    form = TimezoneSaveForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["timezone"]:
        return JsonResponse({"error": _("That is not a time zone name.")}, status=400)
    request.user.timezone = form.cleaned_data["timezone"]
    request.user.save(update_fields=["timezone"])
    return JsonResponse({"timezone": request.user.timezone})


# --- The organization's identity provider ----------------------------------------------------------

@organization_view(minimum_role=Membership.Role.OWNER)
def identity_provider_settings(request):
    """Owners set up the organization's OpenID Connect provider; saving reads its discovery document."""
    saved = IdentityProvider.objects.filter(organization=request.organization).first()
    instance = saved or IdentityProvider(organization=request.organization)
    form = IdentityProviderForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            oidc.discover(form.cleaned_data["issuer"], refresh=True)
        except http.OutboundError as error:
            form.add_error("issuer", _("The portal could not read this issuer's discovery document: %(error)s")
                           % {"error": error})
        else:
            form.save()
            messages.success(request, _("The identity provider settings were saved. Use “Test sign-in” to try "
                                        "them."))
            return redirect("identity_provider_settings", request.organization.slug)
    return render(request, "accounts/identity_provider.html", {
        "form": form, "saved": saved, "callback_url": oidc.callback_url(), "group_roles": GROUP_ROLE_CHOICES,
        "group_rows": form.group_rows + [{"name": "", "role": Membership.Role.MEMBER}]})


@organization_view(minimum_role=Membership.Role.OWNER)
@require_POST
def identity_provider_test(request):
    """Start a test sign-in with the saved settings; accounts/oidc.py shows the owner what came back."""
    saved = IdentityProvider.objects.filter(organization=request.organization).first()
    if saved is None:
        raise Http404(_("No identity provider is set up yet."))
    try:
        return redirect(oidc.start_test_sign_in(request, saved))
    except http.OutboundError as error:
        messages.error(request, _("The portal could not read the issuer's discovery document: %(error)s")
                       % {"error": error})
        return redirect("identity_provider_settings", request.organization.slug)

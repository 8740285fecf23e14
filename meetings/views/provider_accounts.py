"""Organization admins manage their video provider accounts: add, edit (secrets write-only),
generate an RSA key pair, and check the connection."""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.tenancy import get_scoped_or_404, organization_view
from portal.site import absolute_reverse

from ..forms import ProviderAccountForm
from ..models import ProviderAccount
from ..providers import PROVIDERS, provider_label
from ..services import accounts as account_services

ADMIN = Membership.Role.ADMIN


def _callback_urls(account) -> dict:
    """What to register with the provider, by the secrets it keeps: an access check URL needs an access
    secret, an events URL a webhook secret, and a key pair a private key."""
    provider = PROVIDERS.get(account.provider)
    secrets = provider.secret_fields if provider else ()
    urls = {"key_pair": "jwt_private_key" in secrets}
    if "access_secret" in secrets:
        urls["access"] = absolute_reverse("gcore_access_check", account.code)
    if "webhook_secret" in secrets:
        urls["events"] = absolute_reverse("gcore_event", account.code)
    return urls


SERVER_ADDRESS_FIELDS = ("meet_domain", "space_host", "server_url")


@organization_view(minimum_role=ADMIN)
def account_list(request):
    accounts = list(ProviderAccount.objects.of(request.organization))
    for account in accounts:
        provider = PROVIDERS.get(account.provider)
        fields = provider.account_fields if provider else ()
        account.provider_name = provider_label(account.provider)
        # Only what this provider uses: its server's address and how its tokens are signed.
        account.address = next((getattr(account, name) for name in SERVER_ADDRESS_FIELDS if name in fields), "")
        account.signing = account.jwt_algorithm if "jwt_algorithm" in fields else ""
    return render(request, "meetings/provider_accounts.html", {"tab": "providers", "accounts": accounts})


@organization_view(minimum_role=ADMIN)
def account_new(request):
    form = ProviderAccountForm(request.POST or None, instance=ProviderAccount(organization=request.organization))
    if request.method == "POST" and form.is_valid():
        account = account_services.provider_account_save(form.save(commit=False), previous=None)
        messages.success(request, _("%(name)s was added. Register the URLs below with the provider, then "
                                    "check the connection.") % {"name": account.name})
        return redirect("provider_account", request.organization.slug, account.code)
    return render(request, "meetings/provider_account.html", {"tab": "providers", "form": form})


@organization_view(minimum_role=ADMIN)
def account_edit(request, account_code):
    account = get_scoped_or_404(ProviderAccount, request.organization, code=account_code)
    previous = ProviderAccount.objects.get(pk=account.pk)
    form = ProviderAccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        account_services.provider_account_save(form.save(commit=False), previous=previous)
        messages.success(request, _("%(name)s was saved.") % {"name": account.name})
        return redirect("provider_account", request.organization.slug, account.code)
    return render(request, "meetings/provider_account.html", {
        "tab": "providers", "form": form, "account": previous, "callbacks": _callback_urls(previous),
        "checks": request.session.pop(f"checks-{previous.code}", None)})


@organization_view(minimum_role=ADMIN)
def account_check(request, account_code):
    account = get_scoped_or_404(ProviderAccount, request.organization, code=account_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    checks = account_services.check_connection(account)
    request.session[f"checks-{account.code}"] = [check.__dict__ for check in checks]
    return redirect(reverse("provider_account", args=[request.organization.slug, account.code]) + "#checks")


@organization_view(minimum_role=ADMIN)
def account_generate_key(request, account_code):
    account = get_scoped_or_404(ProviderAccount, request.organization, code=account_code)
    if request.method == "POST":
        account_services.generate_rsa_pair(account)
        messages.success(request, _("A new 2048-bit key pair was made. Register its public key with the provider "
                                    "now: until then, people cannot join meetings on this account."))
        return redirect(reverse("provider_account", args=[request.organization.slug, account.code]) + "#public-key")
    return render(request, "meetings/confirm.html", {
        "title": _("Generate a new key pair for %(name)s?") % {"name": account.name},
        "button": _("Generate a new key pair"),
        "text": _("Join tokens are signed with the new private key at once (RS256). The provider accepts them only "
                  "after you register the new public key with it."),
        "back": reverse("provider_account", args=[request.organization.slug, account.code])})

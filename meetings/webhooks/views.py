"""Organization admins manage outgoing webhooks: endpoints, their deliveries, re-sending, the secret."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.models import Membership
from accounts.tenancy import get_scoped_or_404, organization_view

from . import services, signing
from .forms import WebhookEndpointForm
from .models import WebhookDelivery, WebhookEndpoint

ADMIN = Membership.Role.ADMIN
DELIVERIES_PER_PAGE = 25
TAB = "integrations"


def _endpoint(request, endpoint_code) -> WebhookEndpoint:
    return get_scoped_or_404(WebhookEndpoint, request.organization, code=endpoint_code)


def _endpoint_page(request, endpoint) -> str:
    return reverse("webhook_endpoint", args=[request.organization.slug, endpoint.code])


def _show_secret_once(request, endpoint, secret: str) -> None:
    request.session[f"webhook-secret-{endpoint.code}"] = secret


@never_cache
@organization_view(minimum_role=ADMIN)
def endpoint_list(request):
    return render(request, "meetings/webhooks/endpoint_list.html", {
        "tab": TAB, "endpoints": WebhookEndpoint.objects.of(request.organization)})


@never_cache
@organization_view(minimum_role=ADMIN)
def endpoint_new(request):
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(
                organization=request.organization, url=form.cleaned_data["url"],
                events_wanted=form.cleaned_data["events"], description=form.cleaned_data["description"],
                created_by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _show_secret_once(request, endpoint, endpoint.secret)
            messages.success(request, _("The endpoint was added. Copy its signing secret now: it is not shown again."))
            return redirect(_endpoint_page(request, endpoint))
    return render(request, "meetings/webhooks/endpoint_form.html", {"tab": TAB, "form": form})


@never_cache
@organization_view(minimum_role=ADMIN)
def endpoint_detail(request, endpoint_code):
    endpoint = _endpoint(request, endpoint_code)
    deliveries = WebhookDelivery.objects.of(request.organization).filter(endpoint=endpoint)
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "meetings/webhooks/endpoint_detail.html", {
        "tab": TAB, "endpoint": endpoint, "page": page, "deliveries": page.object_list,
        "secret": request.session.pop(f"webhook-secret-{endpoint.code}", None),
        "header": signing.HEADER, "replay_window": signing.REPLAY_WINDOW_SECONDS // 60})


@never_cache
@organization_view(minimum_role=ADMIN)
def endpoint_edit(request, endpoint_code):
    endpoint = _endpoint(request, endpoint_code)
    form = WebhookEndpointForm(request.POST or None, endpoint=endpoint)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(endpoint=endpoint, url=form.cleaned_data["url"],
                                     events_wanted=form.cleaned_data["events"],
                                     description=form.cleaned_data["description"],
                                     enabled=form.cleaned_data.get("enabled"))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The endpoint was saved."))
            return redirect(_endpoint_page(request, endpoint))
    return render(request, "meetings/webhooks/endpoint_form.html", {"tab": TAB, "form": form, "endpoint": endpoint})


@never_cache
@organization_view(minimum_role=ADMIN)
def endpoint_roll_secret(request, endpoint_code):
    endpoint = _endpoint(request, endpoint_code)
    if request.method == "POST":
        _show_secret_once(request, endpoint, services.endpoint_roll_secret(endpoint=endpoint))
        messages.success(request, _("The endpoint has a new signing secret, used from the next delivery on. "
                                    "Copy it now: it is not shown again."))
        return redirect(_endpoint_page(request, endpoint))
    return render(request, "meetings/confirm.html", {
        "title": _("Roll the signing secret?"), "button": _("Make a new secret"),
        "text": _("Deliveries are signed with the new secret at once, so your receiver refuses them until it has "
                  "the new one. The old secret stops working."),
        "back": _endpoint_page(request, endpoint)})


@organization_view(minimum_role=ADMIN)
def endpoint_enable(request, endpoint_code):
    endpoint = _endpoint(request, endpoint_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.endpoint_enable(endpoint=endpoint)
    messages.success(request, _("The endpoint is enabled again. Deliveries given up earlier can be re-sent below."))
    return redirect(_endpoint_page(request, endpoint))


@never_cache
@organization_view(minimum_role=ADMIN)
def endpoint_delete(request, endpoint_code):
    endpoint = _endpoint(request, endpoint_code)
    if request.method == "POST":
        services.endpoint_delete(endpoint=endpoint)
        messages.success(request, _("The endpoint %(url)s was deleted with its deliveries.") % {"url": endpoint.url})
        return redirect("webhook_endpoints", request.organization.slug)
    return render(request, "meetings/confirm.html", {
        "title": _("Delete the endpoint %(url)s?") % {"url": endpoint.url}, "button": _("Delete the endpoint"),
        "text": _("No more events are sent there, and its delivery history is deleted with it."),
        "back": _endpoint_page(request, endpoint)})


def _delivery(request, endpoint_code, delivery_code) -> WebhookDelivery:
    endpoint = _endpoint(request, endpoint_code)
    return get_scoped_or_404(WebhookDelivery.objects.filter(endpoint=endpoint).select_related("endpoint"),
                             request.organization, code=delivery_code)


@never_cache
@organization_view(minimum_role=ADMIN)
def delivery_detail(request, endpoint_code, delivery_code):
    delivery = _delivery(request, endpoint_code, delivery_code)
    return render(request, "meetings/webhooks/delivery_detail.html", {
        "tab": TAB, "delivery": delivery, "endpoint": delivery.endpoint, "attempts": delivery.attempt_log.all()})


@organization_view(minimum_role=ADMIN)
def delivery_resend(request, endpoint_code, delivery_code):
    delivery = _delivery(request, endpoint_code, delivery_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.resend(delivery=delivery)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{delivery.event_type} {delivery.event_id} is being sent again.")
    return redirect(_endpoint_page(request, delivery.endpoint))

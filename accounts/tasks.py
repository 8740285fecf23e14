from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import Membership


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_member_added_email(membership_id: int) -> None:
    membership = Membership.objects.select_related("user", "organization").filter(pk=membership_id).first()
    if membership is None:  # removed again before the worker got to it
        return
    user, organization = membership.user, membership.organization
    context = {"user": user, "organization": organization, "role": membership.get_role_display(),
               "sign_in_url": settings.SITE_URL + reverse("login")}
    has_idp = hasattr(organization, "identity_provider") and organization.identity_provider.enabled
    if not has_idp and not user.has_usable_password():
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        context["set_password_url"] = settings.SITE_URL + reverse(
            "password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    message = EmailMultiAlternatives(
        subject=f"You were added to {organization.name}",
        body=render_to_string("accounts/email/member_added.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string("accounts/email/member_added.html", context), "text/html")
    message.send()

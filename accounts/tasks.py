from celery import shared_task
from django.contrib.auth.tokens import default_token_generator
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from portal import outbox
from portal.mail import templated_email
from portal.site import absolute_reverse

from .i18n import language_of
from .models import Membership, MembershipInvitation, User


@shared_task(acks_late=True)
@outbox.pending_task(exclusive=True, max_attempts=6)
def send_member_added_email(membership_id: int) -> None:
    membership = Membership.objects.select_related("user", "organization").filter(pk=membership_id).first()
    if membership is None:  # removed again before the worker got to it
        return
    user, organization = membership.user, membership.organization
    with translation.override(language_of(user, organization)):
        context = {"user": user, "organization": organization, "role": membership.get_role_display(),
                   "sign_in_url": absolute_reverse("login")}
        has_idp = hasattr(organization, "identity_provider") and organization.identity_provider.enabled
        if not has_idp and not user.has_usable_password():
            uid = urlsafe_base64_encode(force_bytes(user.pk))
            token = default_token_generator.make_token(user)
            context["set_password_url"] = absolute_reverse("password_reset_confirm", uidb64=uid, token=token)
        templated_email("accounts/email/member_added", context, to=user.email,
                        subject=_("You were added to %(organization)s") % {"organization": organization.name}).send()


@shared_task(acks_late=True)
@outbox.pending_task(exclusive=True, max_attempts=6)
def send_membership_invitation_email(invitation_id: int) -> None:
    from .services import membership_invitation_token

    invitation = MembershipInvitation.objects.select_related("organization", "invited_by").filter(
        pk=invitation_id, accepted_at__isnull=True).first()
    if invitation is None:  # accepted or replaced before the worker got to it
        return
    existing = User.objects.filter(email__iexact=invitation.email).first()
    with translation.override(language_of(existing, invitation.organization)):
        context = {"invitation": invitation, "organization": invitation.organization,
                   "role": invitation.get_role_display(), "invited_by": invitation.invited_by,
                   "accept_url": absolute_reverse("membership_invite", membership_invitation_token(invitation))}
        templated_email("accounts/email/membership_invitation", context, to=invitation.email,
                        subject=_("Join %(organization)s on the meeting portal")
                        % {"organization": invitation.organization.name}).send()

from django.utils.functional import SimpleLazyObject


def organizations(request):
    """The signed-in person's memberships, for the organization switcher; queried only when shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "my_memberships": SimpleLazyObject(
            lambda: list(user.memberships.select_related("organization").order_by("organization__name"))),
        "current_organization": getattr(request, "organization", None),
    }

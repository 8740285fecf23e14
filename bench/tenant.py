"""What the data-building bench scripts start from, inside a Django that is set up: an organization
with its owner and a room, and a webinar in it five minutes from now."""

from datetime import timedelta


def organization_with_room(slug: str, name: str):
    from accounts.models import Organization, User
    from meetings.services import scheduling

    owner = User.objects.create_user(f"{slug}@example.net")
    organization = Organization.objects.create(name=name, slug=slug)
    room = scheduling.room_create(organization=organization, owner=owner, name="Room", max_broadcasters=8,
                                  max_watchers=20)
    return owner, organization, room


def webinar(organization, room, owner, *, provider: str, **settings):
    from django.utils import timezone

    from meetings.services import scheduling

    start = timezone.now() + timedelta(minutes=5)
    return scheduling.meeting_schedule(organization=organization, room=room, owner=owner, title="Webinar",
                                       start=start, end=start + timedelta(hours=3), timezone_name="UTC",
                                       provider=provider, kind="webinar", **settings)

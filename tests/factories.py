from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import IdentityProvider, Membership, Organization, User
from meetings.models import Invitation, Meeting, ProviderAccount, Room
from meetings.services import invitations, scheduling


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.django.Password("correct horse battery staple")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    timezone = "Europe/Berlin"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER


class IdentityProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentityProvider

    organization = factory.SubFactory(OrganizationFactory)
    client_id = factory.Sequence(lambda n: f"portal-client-{n}")
    client_secret = factory.Faker("password", length=32)


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    organization = factory.SubFactory(OrganizationFactory)
    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Room {n}")
    max_broadcasters = 8
    max_watchers = 20


class MeetingFactory(factory.django.DjangoModelFactory):
    """A meeting whose occurrences are materialised; by default its first sitting starts in 10 minutes."""

    class Meta:
        model = Meeting
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    owner = factory.SubFactory(UserFactory)
    room = factory.LazyAttribute(lambda o: RoomFactory(organization=o.organization, owner=o.owner))
    title = factory.Sequence(lambda n: f"Meeting {n}")
    timezone = "Europe/Berlin"
    start = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0) + timedelta(minutes=10))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=1))
    max_broadcasters = 8
    max_watchers = 20

    @factory.post_generation
    def occurrences(meeting, create, extracted, **kwargs):
        if create:
            scheduling._materialise(meeting)


class InvitationFactory(factory.django.DjangoModelFactory):
    """An invitation made by the service, so it has a live link; its token is on `.token`."""

    class Meta:
        model = Invitation

    meeting = factory.SubFactory(MeetingFactory)
    email = factory.Sequence(lambda n: f"guest{n}@example.net")
    role = ""

    @classmethod
    def _create(cls, model_class, meeting, email, role, **kwargs):
        invitation, token = invitations.invitation_create(meeting=meeting, email=email, role=role,
                                                          send_email=False, **kwargs)
        invitation.token = token
        return invitation


class ProviderAccountFactory(factory.django.DjangoModelFactory):
    """A Gcore account; pass the secrets a test needs (jwt_secret, access_secret, webhook_secret, api_token)."""

    class Meta:
        model = ProviderAccount

    organization = factory.SubFactory(OrganizationFactory)
    name = "Gcore"
    provider = "gcore"
    jwt_secret = "s" * 32


class GcoreMeetingFactory(MeetingFactory):
    """A meeting held on its organization's Gcore account."""

    provider = "gcore"
    provider_account = factory.LazyAttribute(lambda o: ProviderAccountFactory(organization=o.organization))
    max_broadcasters = 10
    max_watchers = 0

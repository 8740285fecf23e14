import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, Organization, User
from accounts.services import organization_create

DEMO_EMAIL = "admin@demo.localhost"
DEMO_SLUG = "demo"


class Command(BaseCommand):
    help = "Create the demo organization and its owner (a superuser) once; print how to sign in."

    def handle(self, *args, **options):
        credentials = settings.VAR_DIR / "demo-login.txt"
        with transaction.atomic():
            user = User.objects.filter(email=DEMO_EMAIL).first()
            if user is None:
                password = secrets.token_urlsafe(12)
                user = User.objects.create_superuser(DEMO_EMAIL, password, full_name="Demo Admin")
                credentials.touch(mode=0o600)
                credentials.write_text(password)
            organization = Organization.objects.filter(slug=DEMO_SLUG).first()
            if organization is None:
                organization = organization_create(name="Demo Organization", slug=DEMO_SLUG, owner=user)
            elif not Membership.objects.of(organization).filter(user=user).exists():
                Membership.objects.create(organization=organization, user=user, role=Membership.Role.OWNER)
        password = credentials.read_text().strip() if credentials.exists() else "(see var/demo-login.txt)"
        self.stdout.write(f"Demo organization: {organization.name} (/o/{organization.slug}/)")
        self.stdout.write(f"Sign in as:        {DEMO_EMAIL}  password: {password}")

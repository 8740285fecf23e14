import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import validate_slug
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from portal.crypto import EncryptedTextField
from portal.validators import validate_single_line

from .tenancy import TenantModel

TIMEZONE_CHOICES = [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]
LOCALE_CHOICES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español"), ("it", "Italiano")]


class UserManager(BaseUserManager):
    use_in_migrations = True

    def normalize_email(self, email):
        return (email or "").strip().lower()

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("an email address is required")
        user = self.model(email=self.normalize_email(email), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, email):
        return self.get(email=self.normalize_email(email))


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Keyed by email for password sign-in; OIDC sign-in goes through OIDCIdentity."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(max_length=150, blank=True, validators=[validate_single_line])
    timezone = models.CharField(
        max_length=64, blank=True, choices=TIMEZONE_CHOICES,
        help_text=_("Times are shown in this zone; empty means the organization's."),
    )
    language = models.CharField(
        max_length=10, blank=True, choices=settings.LANGUAGES,
        help_text=_("Pages and emails are in this language; empty means the browser's, else the organization's."),
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text=_("May sign in to the operators' admin."))
    date_joined = models.DateTimeField(default=now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = User.objects.normalize_email(self.email)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class Organization(models.Model):
    name = models.CharField(max_length=120, validators=[validate_single_line])
    slug = models.SlugField(max_length=50, unique=True, validators=[validate_slug],
                            help_text=_("Short name used in addresses and on the sign-in page."))
    timezone = models.CharField(max_length=64, default="UTC", choices=TIMEZONE_CHOICES)
    default_locale = models.CharField(max_length=10, default="en", choices=LOCALE_CHOICES)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(TenantModel):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        ADMIN = "admin", _("Admin")
        HOST = "host", _("Host")
        MEMBER = "member", _("Member")

    # Higher number, more rights: used to compare roles and to pick the strongest mapped group.
    RANK = {Role.MEMBER: 0, Role.HOST: 1, Role.ADMIN: 2, Role.OWNER: 3}

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_user")]
        ordering = ["user__email"]

    def __str__(self):
        return f"{self.user} in {self.organization} ({self.role})"

    def has_role(self, minimum: str) -> bool:
        return self.RANK[self.role] >= self.RANK[minimum]

    @property
    def is_admin(self) -> bool:
        return self.has_role(self.Role.ADMIN)

    can_manage_members = is_admin


class IdentityProvider(TenantModel):
    """An organization's own OpenID Connect identity provider."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="identity_provider")
    enabled = models.BooleanField(default=True)
    issuer = models.URLField(
        help_text=_("The issuer URL; its /.well-known/openid-configuration must name the same issuer."))
    client_id = models.CharField(max_length=255)
    client_secret = EncryptedTextField(blank=True, help_text=_("Stored encrypted; never shown again."))
    scopes = models.CharField(max_length=255, default="openid email profile")
    allowed_email_domains = models.CharField(
        max_length=500, blank=True,
        help_text=_("Comma-separated. People of these domains are sent to this provider from the sign-in "
                    "page; when set, only verified addresses of these domains may sign in."))
    groups_claim = models.CharField(max_length=100, blank=True, default="groups",
                                    help_text=_("The claim that lists the person's groups."))
    group_roles = models.JSONField(
        default=dict, blank=True,
        help_text=_('Group to membership role, e.g. {"portal-admins": "admin", "teachers": "host"}. '
                    "When set, the role is taken from the groups at every sign-in."))
    provision_unknown_users = models.BooleanField(
        default=False, help_text=_("Create a member at first sign-in for people the portal does not know yet."))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.organization} identity provider ({self.issuer})"

    def email_domains(self) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in self.allowed_email_domains.split(",") if d.strip()]

    def role_for_groups(self, groups) -> str | None:
        """The strongest role any of these groups maps to, or None when none is mapped."""
        roles = [self.group_roles[g] for g in groups if isinstance(g, str) and g in self.group_roles]
        # Groups never grant owner: only an owner makes another owner.
        roles = [r for r in roles if r in Membership.Role.values and r != Membership.Role.OWNER]
        return max(roles, key=lambda r: Membership.RANK[r]) if roles else None


class OIDCIdentity(models.Model):
    """Who a person is at an identity provider: (issuer, sub), never the email."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="one_user_per_oidc_subject")]
        verbose_name = _("OIDC identity")
        verbose_name_plural = _("OIDC identities")

    def __str__(self):
        return f"{self.subject} at {self.issuer}"


class MembershipInvitation(TenantModel):
    """An existing account asked to join an organization. Nobody is attached to an organization
    silently: the person accepts through the link emailed to the account's address, signed in as that
    account. Only the link's SHA-256 is stored."""

    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["organization", "email"], condition=models.Q(
            accepted_at__isnull=True), name="one_open_membership_invitation_per_email")]

    def __str__(self):
        return f"{self.email} invited to {self.organization} ({self.role})"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.expires_at > now()


class ApiKey(TenantModel):
    """A key other systems call the REST API with (`Authorization: Bearer <key>`), made by an
    organization admin. Only its SHA-256 is kept: the key is shown once, when it is made. It acts
    for its organization with an admin's reach, narrowed to its scopes, while the admin who made it
    is still one."""

    class Scope(models.TextChoices):
        READ = "read", _("read: meetings, invitations, attendance, recordings and usage")
        WRITE = "write", _("write: schedule, change and cancel meetings; invite and withdraw people")
        LINKS = "links", _("links: receive personal join links")
        MEMBERS = "members", _("members: list, add, change and remove members")

    name = models.CharField(max_length=100, validators=[validate_single_line])
    prefix = models.CharField(max_length=16, unique=True, help_text=_("Shown to tell keys apart; not secret."))
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now())

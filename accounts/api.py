"""The members part of /api/v1/ (the `members` scope): list, add, change role, remove. An address the
portal does not know gets an account and the membership; one it knows gets an invitation to accept
(the portal never attaches an existing account to an organization silently)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from portal.api.errors import from_django
from portal.api.idempotency import idempotent
from portal.api.inputs import Input
from portal.api.pagination import paged
from portal.api.views import ApiView

from . import services
from .models import ApiKey, Membership, MembershipInvitation
from .tenancy import get_scoped_or_404


class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.full_name")

    class Meta:
        model = Membership
        fields = ("code", "email", "name", "role", "created_at")


class PendingMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = MembershipInvitation
        fields = ("code", "email", "role", "created_at", "expires_at")


class MemberInput(Input):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class MemberAdded(serializers.Serializer):
    status = serializers.ChoiceField(choices=("added", "invited"),
                                     help_text="invited: the address has an account already; it must accept.")
    member = MemberSerializer(required=False)
    invitation = PendingMemberSerializer(required=False)


class RoleInput(Input):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


def _refusals(call, **kwargs):
    try:
        return call(**kwargs)
    except ValidationError as error:
        raise from_django(error) from None


class MemberList(ApiView):
    scope = ApiKey.Scope.MEMBERS
    ordering = ("created_at", "pk")

    @extend_schema(parameters=[OpenApiParameter("q", str, description="Part of an email address or name.")],
                   responses=paged(MemberSerializer), summary="The organization's members",
                   operation_id="members_list")
    def get(self, request):
        members = Membership.objects.of(request.caller.organization).select_related("user")
        if query := request.query_params.get("q", "").strip()[:100]:
            members = members.filter(Q(user__email__icontains=query) | Q(user__full_name__icontains=query))
        return self.page(members, MemberSerializer)

    @extend_schema(request=MemberInput, responses={201: MemberAdded}, summary="Add a member by email")
    @idempotent
    def post(self, request):
        serializer = MemberInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        added = _refusals(services.membership_add, organization=request.caller.organization, email=data["email"],
                          role=data["role"], added_by=request.caller.membership, full_name=data.get("name", ""))
        if isinstance(added, MembershipInvitation):
            body = {"status": "invited", "invitation": PendingMemberSerializer(added).data}
        else:
            body = {"status": "added", "member": MemberSerializer(added).data}
        return Response(body, status=status.HTTP_201_CREATED)


class MemberDetail(ApiView):
    scope = ApiKey.Scope.MEMBERS

    def _member(self, request, code) -> Membership:
        return get_scoped_or_404(Membership.objects.select_related("user", "organization"),
                                 request.caller.organization, code=code)

    @extend_schema(responses=MemberSerializer, summary="One member")
    def get(self, request, code):
        return Response(MemberSerializer(self._member(request, code)).data)

    @extend_schema(request=RoleInput, responses=MemberSerializer, summary="Change a member's role")
    def patch(self, request, code):
        membership = self._member(request, code)
        serializer = RoleInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        _refusals(services.membership_change_role, membership=membership, role=serializer.validated_data["role"],
                  changed_by=request.caller.membership)
        return Response(MemberSerializer(membership).data)

    @extend_schema(responses={204: None}, summary="Remove a member from the organization")
    def delete(self, request, code):
        membership = self._member(request, code)
        if request.caller.api_key and membership.role == Membership.Role.OWNER:
            # Not even the owner who made the key: a key never takes an owner out.
            raise PermissionDenied("An API key cannot remove an owner; an owner does that in the portal.")
        _refusals(services.membership_remove, membership=membership, removed_by=request.caller.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("members", MemberList.as_view(), name="api_members"),
    path("members/<str:code>", MemberDetail.as_view(), name="api_member"),
]

"""The base of every API view: who is calling, with which scopes, at what rate, and cursor pages."""

from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from . import throttling
from .access import ApiKeyAuthentication, Caller, HasScope, SessionAuthentication, caller_for_session
from .pagination import Cursor


class ApiView(APIView):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, HasScope]
    throttle_classes = []  # counted in perform_authentication, before any permission is checked
    ordering = Cursor.ordering

    def perform_authentication(self, request):
        """Who calls; then count the call: a caller's refused requests count too, and requests that
        name no valid caller count against the client's address."""
        request.caller = None
        try:
            if isinstance(request.auth, Caller):
                request.caller = request.auth
            elif request.user.is_authenticated:
                request.caller = caller_for_session(request)
        except exceptions.AuthenticationFailed:
            self._count(request, failed=True)
            raise
        self._count(request, failed=request.caller is None)

    def _count(self, request, *, failed: bool):
        limit = throttling.for_failed_authentication(request) if failed else throttling.for_caller(request)
        if limit is not None and not limit.allow_request(request, self):
            self.throttled(request, limit.wait())

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"  # answers may carry join links and personal data
        return response

    def page(self, queryset, serializer_class, **context):
        paginator = Cursor()
        paginator.ordering = self.ordering
        rows = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer_class(rows, many=True, context={"request": self.request, **context}).data
        return paginator.get_paginated_response(data)

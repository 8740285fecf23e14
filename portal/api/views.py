"""The base of every API view: who is calling, with which scopes, at what rate, and cursor pages."""

from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from .access import ApiKeyAuthentication, Caller, HasScope, SessionAuthentication, caller_for_session
from .pagination import Cursor
from .throttling import PerCaller


class ApiView(APIView):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, HasScope]
    throttle_classes = [PerCaller]
    ordering = Cursor.ordering

    def perform_authentication(self, request):
        request.caller = None
        if isinstance(request.auth, Caller):
            request.caller = request.auth
        elif request.user.is_authenticated:
            request.caller = caller_for_session(request)

    def page(self, queryset, serializer_class, **context):
        paginator = Cursor()
        paginator.ordering = self.ordering
        rows = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer_class(rows, many=True, context={"request": self.request, **context}).data
        return paginator.get_paginated_response(data)

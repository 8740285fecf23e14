"""One error shape for every API answer that is not a success:

    {"error": {"code": "validation_error", "message": "…", "fields": {"start": ["…"]}}}

`code` is machine-readable and stable, `message` is for people, `fields` appears for bad input.
Django's own ValidationError (what services raise), Http404 and PermissionDenied arrive here too."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler

NON_FIELD = "non_field_errors"


class ApiError(exceptions.APIException):
    """An error with its own code and status, e.g. a conflict with the resource's state."""

    def __init__(self, message: str, *, code: str, status_code: int = status.HTTP_409_CONFLICT):
        super().__init__(message, code)
        self.status_code = status_code


def from_django(error: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError({field: [message for problem in problems for message in problem.messages]
                                           for field, problems in error.error_dict.items()})
    return exceptions.ValidationError({NON_FIELD: error.messages})


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [text for value in detail.values() for text in _flatten(value)]
    if isinstance(detail, list):
        return [text for value in detail for text in _flatten(value)]
    return [str(detail)]


def handle(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = from_django(exc)
    response = exception_handler(exc, context)  # Http404 and PermissionDenied become DRF's own here
    if response is None:
        return None  # a real server error: Django's handler500 answers it
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {NON_FIELD: exc.detail}
        fields = {name: _flatten(value) for name, value in detail.items() if name != NON_FIELD}
        general = _flatten(detail.get(NON_FIELD, []))
        message = " ".join(general) or "Some fields are not valid: " + ", ".join(sorted(fields)) + "."
        body = {"code": "validation_error", "message": message}
        if fields:
            body["fields"] = fields
    else:
        code = exc.get_codes() if hasattr(exc, "get_codes") else None
        if isinstance(exc, Http404):
            code, message = "not_found", str(exc) or "Not found."
        elif isinstance(exc, PermissionDenied):
            code, message = "permission_denied", str(exc) or "You may not do this."
        else:
            message = " ".join(_flatten(exc.detail))
        body = {"code": code if isinstance(code, str) else "error", "message": message}
    response.data = {"error": body}
    return response


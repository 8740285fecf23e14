"""Cursor pages: `?limit=` (1–200, default 50) and opaque `next` / `previous` links, stable while
rows are added (no offsets to skip or repeat)."""

from functools import cache

from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = ("-created_at", "-pk")


@cache
def paged(serializer_class):
    """The schema of one cursor page of `serializer_class` rows (for extend_schema)."""
    from rest_framework import serializers

    return type(f"Paged{serializer_class.__name__.removesuffix('Serializer')}List", (serializers.Serializer,), {
        "next": serializers.URLField(allow_null=True, help_text="The next page, or null on the last one."),
        "previous": serializers.URLField(allow_null=True),
        "results": serializer_class(many=True),
    })

"""Cursor pages: `?limit=` (1–200, default 50) and opaque `next` / `previous` links, stable while
rows are added (no offsets to skip or repeat)."""

from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = ("-created_at", "-pk")

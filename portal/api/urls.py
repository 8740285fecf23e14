"""/api/v1/: the resources, the OpenAPI 3 schema at /api/v1/schema, and its docs page at /api/v1/docs
(Swagger UI from drf-spectacular-sidecar, served by the portal: it works offline)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", include("meetings.api.urls")),
    path("", include("accounts.api")),
    path("schema", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="api_schema"),
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="api_schema", authentication_classes=[],
                                                permission_classes=[]), name="api_docs"),
]

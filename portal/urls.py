from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Meeting portal operations"
admin.site.site_title = "Meeting portal admin"

# /healthz and /readyz are answered by portal.outage.HealthMiddleware, before sessions load.
handler500 = "portal.outage.server_error"


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api.urls")),
    path("", include("accounts.urls")),
    path("", include("meetings.urls")),
]

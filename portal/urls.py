from django.contrib import admin
from django.urls import include, path

from accounts.i18n import set_language

admin.site.site_header = "Meeting portal operations"
admin.site.site_title = "Meeting portal admin"

# /healthz and /readyz are answered by portal.outage.HealthMiddleware, before sessions load.
handler500 = "portal.outage.server_error"


urlpatterns = [
    path("admin/", admin.site.urls),
    path("language/", set_language, name="set_language"),
    path("api/v1/", include("portal.api.urls")),
    path("", include("accounts.urls")),
    path("", include("meetings.urls")),
]

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

admin.site.site_header = "Meeting portal operations"
admin.site.site_title = "Meeting portal admin"


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("accounts.urls")),
    path("", include("meetings.urls")),
]

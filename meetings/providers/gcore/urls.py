"""The endpoints Gcore's servers call, per provider account (registered with Gcore with their secrets):
its access check, and its join/leave events, which the portal's generic callback view takes."""

from django.urls import path

from ...views.callbacks import provider_callback
from . import views

GCORE = {"provider_key": "gcore"}

urlpatterns = [
    path("providers/gcore/<str:account_code>/access", views.gcore_access_check, name="gcore_access_check"),
    path("providers/gcore/<str:account_code>/events", provider_callback, GCORE, name="gcore_event"),
    path("providers/gcore/<str:account_code>/events/<str:path_event>", provider_callback, GCORE,
         name="gcore_event_named"),
]

"""The endpoint VideoSDK posts a room's webhooks to (set on each room the portal creates)."""

from django.urls import path

from ...views.callbacks import provider_callback

urlpatterns = [
    path("providers/videosdk/<str:account_code>/events", provider_callback, {"provider_key": "videosdk"},
         name="videosdk_event"),
]

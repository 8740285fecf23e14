"""The endpoint VideoSDK posts a room's webhooks to (set on each room the portal creates)."""

from django.urls import path

from . import views

urlpatterns = [
    path("providers/videosdk/<str:account_code>/events", views.videosdk_event, name="videosdk_event"),
]

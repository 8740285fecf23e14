"""LiveKit's endpoints: the webhook URL registered in the LiveKit project (one per portal account),
and the room page's moderation requests."""

from django.urls import path

from ...views.callbacks import provider_callback
from . import views

urlpatterns = [
    path("providers/livekit/<str:account_code>/events", provider_callback, {"provider_key": "livekit"},
         name="livekit_event"),
    path("j/<str:token>/livekit/moderate", views.livekit_moderate, name="livekit_moderate"),
]

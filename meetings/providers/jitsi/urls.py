"""The Jitsi frame document, answered only on JITSI_FRAME_ORIGIN's host (the room page itself is the
portal's join_room). frame.FRAME_PATH is this address."""

from django.urls import path

from . import views

urlpatterns = [
    path("jitsi-frame/", views.jitsi_frame, name="jitsi_frame"),
]

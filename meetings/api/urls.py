from django.urls import path

from . import views

urlpatterns = [
    path("rooms", views.RoomList.as_view(), name="api_rooms"),
    path("rooms/<str:code>", views.RoomDetail.as_view(), name="api_room"),
    path("meetings", views.MeetingList.as_view(), name="api_meetings"),
    path("meetings/<str:code>", views.MeetingDetail.as_view(), name="api_meeting"),
    path("meetings/<str:code>/cancel", views.MeetingCancel.as_view(), name="api_meeting_cancel"),
    path("meetings/<str:code>/end", views.MeetingEnd.as_view(), name="api_meeting_end"),
    path("meetings/<str:code>/occurrences", views.OccurrenceList.as_view(), name="api_occurrences"),
    path("meetings/<str:code>/invitations", views.InvitationList.as_view(), name="api_invitations"),
    path("meetings/<str:code>/open-link", views.OpenLink.as_view(), name="api_open_link"),
    path("meetings/<str:code>/attendance", views.Attendance.as_view(), name="api_attendance"),
    path("meetings/<str:code>/recordings", views.RecordingList.as_view(), name="api_recordings"),
    path("occurrences/<str:code>", views.OccurrenceDetail.as_view(), name="api_occurrence"),
    path("occurrences/<str:code>/cancel", views.OccurrenceCancel.as_view(), name="api_occurrence_cancel"),
    path("invitations/<str:code>", views.InvitationDetail.as_view(), name="api_invitation"),
    path("invitations/<str:code>/link", views.InvitationLink.as_view(), name="api_invitation_link"),
    path("recordings/<str:code>", views.RecordingDetail.as_view(), name="api_recording"),
    path("usage", views.Usage.as_view(), name="api_usage"),
]

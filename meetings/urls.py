from django.urls import path

from .views import calendar, hosts, join, providers, recordings

M = "o/<slug:org_slug>/meetings/<str:meeting_code>/"

urlpatterns = [
    path("o/<slug:org_slug>/", hosts.dashboard, name="organization_home"),
    path("o/<slug:org_slug>/rooms/", hosts.room_list, name="room_list"),
    path("o/<slug:org_slug>/rooms/<str:room_code>/", hosts.room_edit, name="room_edit"),
    path("o/<slug:org_slug>/meetings/new/", hosts.meeting_new, name="meeting_new"),
    path(M, hosts.meeting_detail, name="meeting_detail"),
    path(M + "edit/", hosts.meeting_edit, name="meeting_edit"),
    path(M + "cancel/", hosts.meeting_cancel, name="meeting_cancel"),
    path(M + "transfer/", hosts.meeting_transfer, name="meeting_transfer"),
    path(M + "occurrences/<str:occurrence_code>/edit/", hosts.occurrence_edit, name="occurrence_edit"),
    path(M + "occurrences/<str:occurrence_code>/cancel/", hosts.occurrence_cancel, name="occurrence_cancel"),
    path(M + "occurrences/<str:occurrence_code>/end/", hosts.occurrence_end, name="occurrence_end"),
    path(M + "invite/", hosts.invite, name="invite"),
    path(M + "invite/members/", hosts.invite_members, name="invite_members"),
    path(M + "invite/paste/", hosts.invite_paste, name="invite_paste"),
    path(M + "invite/csv/", hosts.invite_csv, name="invite_csv"),
    path(M + "open-link/", hosts.open_link, name="open_link"),
    path(M + "invitations/<str:invitation_code>/role/", hosts.invitation_role, name="invitation_role"),
    path(M + "invitations/<str:invitation_code>/revoke/", hosts.invitation_revoke, name="invitation_revoke"),
    path(M + "invitations/<str:invitation_code>/reissue/", hosts.invitation_reissue, name="invitation_reissue"),
    path(M + "invitations/<str:invitation_code>/resend/", hosts.invitation_resend, name="invitation_resend"),
    path("j/<str:token>", join.join_page, name="join"),
    path("j/<str:token>/opened", join.join_opened, name="join_opened"),
    path("j/<str:token>/room/", join.join_room, name="join_room"),
    path("j/<str:token>/room/state", join.join_room_state, name="join_room_state"),
    path("j/<str:token>/leave", join.join_leave, name="join_leave"),
    path("j/<str:token>/recordings/", recordings.recording_start, name="recording_start"),
    path("j/<str:token>/recordings/<str:recording_code>/", recordings.recording_status, name="recording_status"),
    path("j/<str:token>/recordings/<str:recording_code>/chunks/<int:index>", recordings.recording_chunk,
         name="recording_chunk"),
    path("j/<str:token>/recordings/<str:recording_code>/finish", recordings.recording_finish,
         name="recording_finish"),
    path(M + "recordings/<str:recording_code>/file", recordings.recording_file, name="recording_file"),
    path("providers/gcore/<str:account_code>/access", providers.gcore_access_check, name="gcore_access_check"),
    path("account/calendar/", calendar.calendar_settings, name="calendar_settings"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
]

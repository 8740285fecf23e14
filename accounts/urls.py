from django.contrib.auth import views as auth_views
from django.urls import path

from . import oidc, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.sign_in, name="login"),
    path("login/password/", views.PasswordSignInView.as_view(), name="password_login"),
    path("logout/", oidc.logout_view, name="logout"),
    path("oidc/<slug:slug>/authenticate/", oidc.OrganizationOIDCStartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", oidc.OrganizationOIDCCallbackView.as_view(), name="oidc_authentication_callback"),
    path("password/set/<uidb64>/<token>/", views.PasswordSetView.as_view(), name="password_reset_confirm"),
    path("password/set/done/", auth_views.PasswordResetCompleteView.as_view(
        template_name="accounts/password_set_done.html"), name="password_reset_complete"),
    path("account/", views.profile, name="profile"),
    path("account/timezone/", views.profile_timezone, name="profile_timezone"),
    path("invites/<str:token>/", views.membership_invite, name="membership_invite"),
    path("o/<slug:org_slug>/members/", views.member_list, name="member_list"),
    path("o/<slug:org_slug>/members/bulk/", views.member_bulk_add, name="member_bulk_add"),
    path("o/<slug:org_slug>/members/<str:member_code>/role/", views.member_change_role, name="member_change_role"),
    path("o/<slug:org_slug>/members/<str:member_code>/remove/", views.member_remove, name="member_remove"),
    path("o/<slug:org_slug>/settings/", views.organization_settings, name="organization_settings"),
    path("o/<slug:org_slug>/settings/identity-provider/", views.identity_provider_settings,
         name="identity_provider_settings"),
    path("o/<slug:org_slug>/settings/identity-provider/test/", views.identity_provider_test,
         name="identity_provider_test"),
    path("o/<slug:org_slug>/integrations/api-keys/", views.api_key_list, name="api_key_list"),
    path("o/<slug:org_slug>/integrations/api-keys/<str:key_code>/revoke/", views.api_key_revoke,
         name="api_key_revoke"),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboard.accounts.views import PasswordChangeView

# Sign-in, sign-out and password change only: password reset by email is left out until the
# dashboard is configured to send mail (accounts are managed by an administrator).
accounts = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Throttled: a wrong old password counts as a failed sign-in.
    path("password_change/", PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

urlpatterns = [
    path("", include("dashboard.ops.urls")),
    path("", include("dashboard.board.urls")),
    path("", include("dashboard.approvals.urls")),
    path("api/", include("dashboard.api.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include(accounts)),
]

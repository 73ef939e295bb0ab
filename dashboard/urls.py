from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboard.accounts.views import PasswordChangeView, SignInView
from dashboard.ops.favicon import favicon

# Sign-in, sign-out and password change only: password reset by email is left out until the
# dashboard is configured to send mail (accounts are managed by an administrator).
accounts = [
    # Local and/or CIC passwords (DASHBOARD_AUTH); agents without a dashboard role land on /me/.
    path("login/", SignInView.as_view(), name="login"),
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
    # First: URLs are tried in order, and a POST of /api/allocations walked the 30 page patterns
    # above it before reaching the API. No other pattern starts with "api/" (a test keeps it so),
    # so every path resolves as before.
    path("api/", include("dashboard.api.urls")),
    path("favicon.ico", favicon, name="favicon"),  # public: browsers ask for it at the root
    path("", include("dashboard.ops.urls")),
    path("", include("dashboard.board.urls")),
    path("", include("dashboard.approvals.urls")),
    path("plans/", include("dashboard.plans.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include(accounts)),
    path("me/", include("dashboard.agentpage.urls")),
]

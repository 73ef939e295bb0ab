"""Sign-in (local and CIC, per ``DASHBOARD_AUTH``) and the password change, both throttled."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import user_login_failed
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

from dashboard.accounts.forms import SignInForm
from dashboard.accounts.roles import home_url
from dashboard.accounts.throttle import is_locked_out
from dashboard.core.session_end import ENDED, ENDED_WHILE_SENDING


class SignInView(auth_views.LoginView):
    """Django's sign-in with ``SignInForm``; an agent without a dashboard role lands on /me/."""

    form_class = SignInForm
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        # "/" is the board, which an agent without a dashboard role may not open.
        wanted = self.get_redirect_url()
        return wanted if wanted and wanted != "/" else home_url(self.request.user)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "auth_mode": settings.DASHBOARD_AUTH,
            "ended_note": ENDED_NOTES.get(self.request.GET.get("ended", "")),
        }


# Why she is on the sign-in page, when a page of hers found its session over (core.session_end).
ENDED_NOTES = {
    ENDED: "Your session ended (signed out in another tab, or timed out). Sign in to carry on.",
    ENDED_WHILE_SENDING: (
        "Your session ended (signed out in another tab, or timed out) before what you sent "
        "reached the dashboard: nothing was done with it, no agent was moved. Sign in and "
        "try again."
    ),
}


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, where a wrong old password counts as a failed sign-in.

    Without this the form is an unthrottled password oracle for anyone holding a session. The
    failures go to the same counters as the login page (django-axes, per username and address,
    and per username across addresses), so a lockout there is a lockout here and the other way
    round; the axes middleware answers 429 with the lockout page.
    """

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        username = request.user.get_username()
        if is_locked_out(request, username):
            request.axes_locked_out = True  # type: ignore[attr-defined]
            return self.form_invalid(self.get_form())
        form = self.get_form()
        if form.is_valid():
            return self.form_valid(form)
        if "old_password" in form.errors:
            user_login_failed.send(
                sender=__name__, credentials={"username": username}, request=request
            )
        return self.form_invalid(form)

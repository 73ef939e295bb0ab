"""The sign-in form: Django's, with CIC's refusals and outages in words."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

from dashboard.accounts.cic_signin import CicUnreachable


class SignInForm(AuthenticationForm):
    def __init__(self, request=None, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        if settings.DASHBOARD_AUTH == "cic":
            self.fields["username"].label = "CIC user ID"
            self.fields["password"].label = "CIC password"
        elif settings.DASHBOARD_AUTH == "both":
            self.fields["username"].label = "CIC user ID or local username"

    def clean(self):
        if self.request is not None:
            self.request.sign_in_form = True  # an outage may be raised to here (backends.py)
        try:
            return super().clean()
        except CicUnreachable as exc:
            raise forms.ValidationError(exc.text, code="cic_unreachable") from None
        except forms.ValidationError as exc:
            refusal = getattr(self.request, "sign_in_refusal", None)
            if refusal and getattr(exc, "code", None) == "invalid_login":
                raise forms.ValidationError(refusal, code="refused") from None
            raise

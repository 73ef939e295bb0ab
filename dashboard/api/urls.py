"""The API's URLs (namespace ``api``), all exempt from the site-wide login redirect.

The API answers 401 itself, for a missing or wrong token as for a missing session; a redirect to
the login page would be useless to a script.
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver

from dashboard.api.api import api

urlpatterns = api.urls[0]
app_name = "api"


def _exempt(patterns) -> None:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _exempt(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            pattern.callback = login_not_required(pattern.callback)


_exempt(urlpatterns)

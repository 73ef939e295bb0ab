"""The admin site, open only to the admin role (``accounts.roles.ADMIN``) on top of ``is_staff``.

``ops.apps.AdminConfig`` makes this the default site, so ``admin.site`` and every
``@admin.register`` use it without naming it.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from dashboard.accounts.roles import ADMIN, roles_of


class DashboardAdminSite(admin.AdminSite):
    site_header = "CIC Supervisor Dashboard administration"
    site_title = "CIC Supervisor Dashboard admin"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and ADMIN in roles_of(request.user)

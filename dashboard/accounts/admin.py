"""Admin pages: supervisor scopes (which workgroups a supervisor may move) and API tokens."""

from django.contrib import admin

from dashboard.accounts.models import ApiToken, SupervisorScope


@admin.register(SupervisorScope)
class SupervisorScopeAdmin(admin.ModelAdmin):
    list_display = ["user"]
    filter_horizontal = ["workgroups"]
    search_fields = ["user__username"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are listed and revoked (deleted) here; new ones only via ``manage.py api_token``,
    which prints the key once."""

    list_display = ["prefix", "user", "created_at", "last_used_at"]
    list_filter = ["user"]
    readonly_fields = ["user", "prefix", "key_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

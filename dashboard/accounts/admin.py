"""Admin pages: supervisor scopes (which workgroups a supervisor may move), API tokens, and who
signed in with CIC (read-only) or may sign in locally under ``DASHBOARD_AUTH=cic``."""

from django.contrib import admin

from dashboard.accounts.models import ApiToken, BreakGlassAccount, CicIdentity, SupervisorScope


@admin.register(SupervisorScope)
class SupervisorScopeAdmin(admin.ModelAdmin):
    """A scope saved here is the admin's: CIC sign-in never changes it (delete it to let the
    supervisor's CIC workgroups set it again)."""

    list_display = ["user", "source"]
    filter_horizontal = ["workgroups"]
    search_fields = ["user__username"]
    readonly_fields = ["source"]

    def save_model(self, request, obj, form, change) -> None:
        obj.source = "admin"
        super().save_model(request, obj, form, change)


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


@admin.register(CicIdentity)
class CicIdentityAdmin(admin.ModelAdmin):
    """What the last CIC sign-in read; roles follow CIC, so nothing here is edited."""

    list_display = ["cic_user_id", "display_name", "is_agent", "last_sign_in_at"]
    search_fields = ["cic_user_id", "display_name"]
    readonly_fields = [f.name for f in CicIdentity._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BreakGlassAccount)
class BreakGlassAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "note", "created_at"]
    raw_id_fields = ["user"]

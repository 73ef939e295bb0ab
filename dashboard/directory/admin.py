"""Admin: what ICWS does not give (REF 10) is recorded here by an admin, and the sync keeps it."""

from django.contrib import admin

from dashboard.directory.models import Campaign


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "state", "state_source", "workgroup", "staffing_target", "active")
    list_filter = ("state", "state_source", "active")
    search_fields = ("name", "id")
    readonly_fields = ("id", "name", "active", "synced_at", "state_source", "workgroup_source")
    fields = (
        "id",
        "name",
        "state",
        "state_source",
        "state_note",
        "workgroup",
        "workgroup_source",
        "staffing_target",
        "active",
        "synced_at",
    )

    def has_add_permission(self, request):
        return False  # campaigns come from ICWS

    def save_model(self, request, obj, form, change):
        # What an admin sets is marked as theirs, so the directory sync leaves it alone.
        if "state" in form.changed_data:
            obj.state_source = "admin" if obj.state != Campaign.State.UNKNOWN else ""
        if "workgroup" in form.changed_data:
            obj.workgroup_source = "admin" if obj.workgroup_id else ""
        super().save_model(request, obj, form, change)

from django.contrib import admin

from dashboard.approvals.models import Approval, ReasonCode


@admin.register(ReasonCode)
class ReasonCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "active", "sort_order")
    list_editable = ("active", "sort_order")
    search_fields = ("code", "label")

    def has_delete_permission(self, request, obj=None):
        # Retire a code (active off) instead: audit rows and approvals name it.
        return False


@admin.register(Approval)
class ApprovalAdmin(admin.ModelAdmin):
    """Read-only: approvals are decided on their page, where scope and the requester are
    checked and the decision is audited."""

    list_display = ("pk", "kind", "status", "summary", "requested_by", "decided_by", "created_at")
    list_filter = ("status", "kind")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

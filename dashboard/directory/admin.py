"""Admin: what ICWS does not give (REF 10) is recorded here by an admin, and the sync keeps it.

Besides editing one campaign, an admin can upload a CSV of campaign facts (``campaign_facts``):
the change list links to the upload page, which shows every error by line and column.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from dashboard.directory.campaign_facts import COLUMNS, MAX_BYTES, campaign_facts_import
from dashboard.directory.models import Campaign


class CampaignFactsForm(forms.Form):
    file = forms.FileField(help_text=f"CSV with a header row: {', '.join(COLUMNS)}.")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "state", "state_source", "workgroup", "staffing_target", "active")
    list_filter = ("state", "state_source", "active")
    search_fields = ("name", "id")
    change_list_template = "admin/directory/campaign/change_list.html"
    readonly_fields = (
        "id",
        "name",
        "active",
        "synced_at",
        "state_source",
        "state_recorded_by",
        "state_recorded_at",
        "workgroup_source",
    )
    fields = (
        "id",
        "name",
        "state",
        "state_source",
        "state_note",
        "state_recorded_by",
        "state_recorded_at",
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
        if "state" in form.changed_data or "state_note" in form.changed_data:
            obj.state_recorded_by = request.user.get_username()
            obj.state_recorded_at = timezone.now()
        if "workgroup" in form.changed_data:
            obj.workgroup_source = "admin" if obj.workgroup_id else ""
        super().save_model(request, obj, form, change)

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_facts_view)
        return [
            path("import/", view, name="directory_campaign_import"),
            *super().get_urls(),
        ]

    def import_facts_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = CampaignFactsForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_BYTES:
                errors = [f"the file is larger than {MAX_BYTES // 1024} KiB"]
            else:
                result = campaign_facts_import(
                    data=upload.read(), actor=request.user, filename=upload.name
                )
                errors = result.errors
                if result.ok:
                    messages.success(
                        request,
                        f"Imported {result.rows} row(s): {result.changed} campaign(s) changed.",
                    )
                    return redirect("admin:directory_campaign_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import campaign facts",
            "form": form,
            "errors": errors,
            "columns": COLUMNS,
        }
        return TemplateResponse(request, "admin/directory/campaign/import_facts.html", context)

from django.urls import path

from dashboard.audit import views

urlpatterns = [
    path("", views.audit_list, name="audit-list"),
    path("export.csv", views.audit_export, {"fmt": "csv"}, name="audit-export-csv"),
    path("export.jsonl", views.audit_export, {"fmt": "jsonl"}, name="audit-export-jsonl"),
    path("<int:event_id>/", views.audit_detail, name="audit-detail"),
    path("<int:event_id>/revert", views.audit_revert, name="audit-revert"),
]

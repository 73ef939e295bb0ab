from django.urls import path

from dashboard.board.views import activity, audit, board, directory, jobs, moves

urlpatterns = [
    path("", board.board_page, name="board"),
    path("moves/preview", moves.move_preview_view, name="move-preview"),
    path("moves/", moves.move_submit, name="move-submit"),
    path("moves/check", moves.move_check, name="move-check"),
    path("activity", activity.activity_view, name="board-activity"),
    path("jobs/away", jobs.jobs_away, name="jobs-away"),
    path("jobs/", jobs.job_list, name="job-list"),
    path("jobs/<int:job_id>/", jobs.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/status", jobs.job_status, name="job-status"),
    path("jobs/<int:job_id>/retry", jobs.job_retry_view, name="job-retry"),
    path("jobs/<int:job_id>/cancel", jobs.job_cancel_view, name="job-cancel"),
    path("agents/<path:agent_id>/", directory.agent_detail, name="agent-detail"),
    path("campaigns/<path:campaign_id>/", directory.campaign_detail, name="campaign-detail"),
    # The audit log's pages (the audit app itself has no views: it imports no other app).
    path("audit/", audit.audit_list, name="audit-list"),
    path("audit/export.csv", audit.audit_export, {"fmt": "csv"}, name="audit-export-csv"),
    path("audit/export.jsonl", audit.audit_export, {"fmt": "jsonl"}, name="audit-export-jsonl"),
    path("audit/suggest/<str:field>", audit.audit_suggest, name="audit-suggest"),
    path("audit/<int:event_id>/", audit.audit_detail, name="audit-detail"),
    path("audit/<int:event_id>/revert", audit.audit_revert, name="audit-revert"),
    path("audit/job/<int:job_id>/revert", audit.job_revert_start, name="job-revert"),
]

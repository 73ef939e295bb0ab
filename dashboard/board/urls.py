from django.urls import path

from dashboard.board.views import board, directory, jobs, moves

urlpatterns = [
    path("", board.board_page, name="board"),
    path("moves/preview", moves.move_preview_view, name="move-preview"),
    path("moves/", moves.move_submit, name="move-submit"),
    path("jobs/", jobs.job_list, name="job-list"),
    path("jobs/<int:job_id>/", jobs.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/status", jobs.job_status, name="job-status"),
    path("jobs/<int:job_id>/retry", jobs.job_retry_view, name="job-retry"),
    path("jobs/<int:job_id>/cancel", jobs.job_cancel_view, name="job-cancel"),
    path("agents/<path:agent_id>/", directory.agent_detail, name="agent-detail"),
    path("campaigns/<path:campaign_id>/", directory.campaign_detail, name="campaign-detail"),
]

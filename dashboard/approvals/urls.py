from django.urls import path

from dashboard.approvals import views

urlpatterns = [
    path("approvals/", views.approval_list, name="approval-list"),
    path("approvals/board", views.board_pending, name="approval-board"),
    path("approvals/<int:approval_id>/", views.approval_detail, name="approval-detail"),
    path("approvals/<int:approval_id>/approve", views.approval_approve, name="approval-approve"),
    path("approvals/<int:approval_id>/reject", views.approval_reject, name="approval-reject"),
    path("approvals/<int:approval_id>/withdraw", views.approval_withdraw, name="approval-withdraw"),
]

from django.urls import path

from dashboard.plans import views

urlpatterns = [
    path("", views.plan_list, name="plan-list"),
    path("new", views.plan_new, name="plan-new"),
    path("new/from-board", views.plan_from_board, name="plan-from-board"),
    path("<int:plan_id>/", views.plan_detail, name="plan-detail"),
    path("<int:plan_id>/edit", views.plan_edit, name="plan-edit"),
    path("<int:plan_id>/pause", views.plan_pause_view, name="plan-pause"),
    path("<int:plan_id>/resume", views.plan_resume_view, name="plan-resume"),
    path("<int:plan_id>/delete", views.plan_delete_view, name="plan-delete"),
]

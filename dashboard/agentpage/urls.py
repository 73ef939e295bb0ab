from django.urls import path

from dashboard.agentpage import views

urlpatterns = [
    path("", views.me_page, name="me"),
    path("ready/", views.ready_for_calls, name="me-ready"),
]

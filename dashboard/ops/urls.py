from django.urls import path

from dashboard.ops import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
]

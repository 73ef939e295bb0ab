from django.apps import AppConfig


class AllocationsConfig(AppConfig):
    name = "dashboard.allocations"
    label = "allocations"
    verbose_name = "Allocation jobs"

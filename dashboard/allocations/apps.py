from django.apps import AppConfig


class AllocationsConfig(AppConfig):
    name = "dashboard.allocations"
    label = "allocations"
    verbose_name = "Allocation jobs"

    def ready(self):
        from dashboard.allocations import checks  # noqa: F401  (registers the system check)

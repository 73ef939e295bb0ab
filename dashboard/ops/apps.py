from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "dashboard.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from dashboard.ops import checks  # noqa: F401 - registers system checks

from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "dashboard.activity"
    label = "activity"
    verbose_name = "Board activity"

    def ready(self) -> None:
        from dashboard.activity import signals  # noqa: F401 - connects the receivers

from django.apps import AppConfig


class AgentPageConfig(AppConfig):
    name = "dashboard.agentpage"
    label = "agentpage"
    verbose_name = "Agent page and ready-for-calls"

    def ready(self) -> None:
        from dashboard.agentpage import signals  # noqa: F401 - connects the receivers

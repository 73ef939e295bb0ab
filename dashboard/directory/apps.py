from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "dashboard.directory"
    label = "directory"
    verbose_name = "Agents and campaigns"

    def ready(self):
        # Audit rows store the names people know, and the audit app reads no other app: it
        # asks this resolver when a writer passes no names (dashboard/audit/search.py).
        from dashboard.audit.search import set_name_resolver
        from dashboard.directory import checks  # noqa: F401 (registers directory.E001)
        from dashboard.directory.selectors import agent_names, campaign_names

        set_name_resolver(lambda agents, camps: (agent_names(agents), campaign_names(camps)))

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class OpsConfig(AppConfig):
    name = "dashboard.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from celery.signals import task_postrun, worker_process_shutdown

        from dashboard.ops import checks  # noqa: F401 - registers system checks
        from dashboard.ops.icws_calls import flush_after_task, flush_periodically

        task_postrun.connect(flush_periodically, weak=False, dispatch_uid="ops.icws_calls.flush")
        worker_process_shutdown.connect(
            flush_after_task, weak=False, dispatch_uid="ops.icws_calls.flush_at_exit"
        )


class AdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the role-checking site (``ops.admin.DashboardAdminSite``)."""

    default = False  # "dashboard.ops" still means OpsConfig
    default_site = "dashboard.ops.admin.DashboardAdminSite"

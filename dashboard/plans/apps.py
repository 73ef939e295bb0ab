from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "dashboard.plans"
    label = "plans"
    verbose_name = "Shift plans"

    def ready(self):
        from dashboard.plans import approval

        approval.register()  # what a granted, rejected or expired plan approval does

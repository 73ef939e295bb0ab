from django.apps import AppConfig


class BoardConfig(AppConfig):
    name = "dashboard.board"
    label = "board"
    verbose_name = "Supervisor board"

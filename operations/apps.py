from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class OperationsConfig(AppConfig):
    """The top layer: the nightly close, the simulator, demo seeding and commands that span
    apps. Nothing imports it (docs/architecture.md)."""

    name = "operations"
    verbose_name = "Operations"

    def ready(self):
        # Every app's close steps (`<app>/close.py`) register themselves on import.
        autodiscover_modules("close")

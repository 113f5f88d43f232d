from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app needs and no app owns; imports none of our apps (docs/architecture.md)."""

    name = "core"
    verbose_name = "Platform"

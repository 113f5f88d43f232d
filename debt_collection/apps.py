from django.apps import AppConfig


class DebtCollectionConfig(AppConfig):
    # A top-level package named `collections` would shadow the standard library's.
    name = "debt_collection"
    label = "debt_collection"
    verbose_name = "Collections"

    def ready(self):
        # Maker-checker kinds are registered with the app, not with the admin that uses them:
        # a Celery worker or a command approving a request never imports the admin.
        from .approvals import approval_kinds_register

        approval_kinds_register()

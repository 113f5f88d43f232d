from django.apps import AppConfig


class DebtCollectionConfig(AppConfig):
    # A top-level package named `collections` would shadow the standard library's.
    name = "debt_collection"
    label = "debt_collection"
    verbose_name = "Collections"

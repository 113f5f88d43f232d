from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from .roles import staff_roles_ensure

        # weak=False: the handler is made here and nothing else holds it, so a weak
        # reference (the default) would let it be collected and migrate would make no roles.
        post_migrate.connect(_roles_after_migrate(staff_roles_ensure), sender=self,
                             dispatch_uid="accounts.staff_roles", weak=False)


def _roles_after_migrate(ensure):
    def handler(sender, **kwargs):
        ensure()

    return handler

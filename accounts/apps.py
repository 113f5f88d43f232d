from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from .roles import staff_roles_ensure
        from .services.language import user_language_keep_from_sign_in

        # weak=False: the handler is made here and nothing else holds it, so a weak
        # reference (the default) would let it be collected and migrate would make no roles.
        post_migrate.connect(_roles_after_migrate(staff_roles_ensure), sender=self,
                             dispatch_uid="accounts.staff_roles", weak=False)
        user_logged_in.connect(user_language_keep_from_sign_in,
                               dispatch_uid="accounts.language_from_sign_in")


def _roles_after_migrate(ensure):
    def handler(sender, **kwargs):
        ensure()

    return handler

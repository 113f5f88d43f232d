"""Staff roles are groups with fixed permissions, created (and kept in line) after migrate."""

from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

RISK_OFFICER = "Risk officer"
COLLECTOR = "Collector"
RISK_MANAGER = "Risk manager"

# Officers read everything lending-related and may lower limits; collectors read loans and
# schedules; risk managers may do what officers do. In risk, officers read decisions and keep the
# block list; managers also read the models, their promotions and the simulator's truth, and
# promote a model to champion. Collectors see nothing of risk.
_LENDING_VIEW = [
    "view_creditproduct", "view_creditline", "view_limitchange", "view_ratechange", "view_loan",
    "view_loanfunding",
    "view_instalment", "view_repayment", "view_ledgeraccount", "view_journalentry",
    "view_posting",
]
# The calendar and the close's record: platform tables every back-office reader may see.
_PLATFORM_VIEW = [("core", "view_businessdate"), ("operations", "view_closerun"),
                  ("operations", "view_closestep"), ("operations", "view_closechunk")]
_BLOCK_LIST = ["view_blocklistentry", "add_blocklistentry", "delete_blocklistentry"]
# Officers verify a customer's declared income (risk.services income_verify) from a decision.
# Officers also read why the nightly rescoring changed a line (its reviews); managers watch the
# models' nightly score distributions and mark a challenger (with the promotion permission).
_RISK_OFFICER = ["view_creditdecision", *_BLOCK_LIST, "view_incomeverification",
                 "add_incomeverification", "view_linereview"]
_RISK_MANAGER = [*_RISK_OFFICER, "view_modelversion", "view_modelpromotion",
                 "view_simulatedcustomer", "promote_modelversion", "view_scoredistribution"]
ROLE_PERMISSIONS = {
    RISK_OFFICER: [("lending", p) for p in _LENDING_VIEW + ["lower_limit_creditline"]]
    + _PLATFORM_VIEW
    + [("accounts", "view_customerprofile"), ("accounts", "view_user")]
    + [("risk", p) for p in _RISK_OFFICER],
    COLLECTOR: [("lending", p) for p in ["view_creditline", "view_loan", "view_instalment",
                                         "view_repayment"]]
    + [("accounts", "view_customerprofile")],
    RISK_MANAGER: [("lending", p) for p in _LENDING_VIEW + ["lower_limit_creditline"]]
    + _PLATFORM_VIEW
    + [("accounts", "view_customerprofile"), ("accounts", "view_user"),
       ("accounts", "view_partnerbank")]
    + [("risk", p) for p in _RISK_MANAGER]
    # Managers unlock a customer locked out by repeated failed logins (django-axes).
    + [("axes", "view_accessattempt"), ("axes", "delete_accessattempt")],
}


def staff_roles_ensure(apps_registry=None, **kwargs):
    """Create each role's group and give it exactly its permissions."""
    from django.apps import apps

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = [Permission.objects.get(content_type__app_label=app, codename=codename)
                  for app, codename in perms]
        group.permissions.set(wanted)

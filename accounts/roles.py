"""Staff roles are groups with fixed permissions, created (and kept in line) after migrate.

A `post_migrate` handler rather than a data migration: a data migration freezes the permissions
that existed when it was written, so every later model or action would need another one, and a
group edited by hand would drift for good. Here each migrate puts every role back to exactly
the permissions below, and `tests/accounts/test_roles.py` checks them."""

from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

RISK_OFFICER = "Risk officer"
SENIOR_OFFICER = "Senior officer"
COLLECTOR = "Collector"
COLLECTIONS_MANAGER = "Collections manager"
RISK_MANAGER = "Risk manager"
AUDITOR = "Auditor"

_LENDING_VIEW = [
    "view_creditproduct", "view_creditline", "view_limitchange", "view_ratechange", "view_loan",
    "view_loanfunding", "view_instalment", "view_repayment", "view_loanextension",
    "view_penaltywaiver", "view_writeoff", "view_writeoffshare", "view_recovery",
    "view_ledgeraccount", "view_journalentry", "view_posting", "view_checkout",
    # The pay-later line (花呗).
    "view_statement", "view_purchase", "view_instalmentplan", "view_planpart", "view_refund",
    "view_paylaterpayment", "view_statementcredit", "view_creditbalancerefund",
    "view_linewriteoff", "view_linerecovery",
]
# What an officer may do to a line or a loan (each an admin action calling one service; the
# large ones only as a request a second officer approves: core/approvals.py).
_OFFICER_ACTIONS = [
    "lower_limit_creditline", "raise_limit_creditline", "freeze_creditline",
    "lift_cap_creditline", "extend_term_loan", "waive_penalty_loan", "write_off_loan",
]
# The calendar and the close's record: platform tables every back-office reader may see.
_PLATFORM_VIEW = [("core", "view_businessdate"), ("operations", "view_closerun"),
                  ("operations", "view_closestep"), ("operations", "view_closechunk")]
_CUSTOMER_VIEW = [("accounts", "view_customerprofile"), ("accounts", "view_user"),
                  ("accounts", "view_customersignals"), ("accounts", "view_notice")]
_COLLECTIONS_VIEW = ["view_collectioncase", "view_collectioncontact", "view_promisetopay",
                     "view_hardshiprequest", "view_bucketsnapshot"]
_BLOCK_LIST = ["view_blocklistentry", "add_blocklistentry", "delete_blocklistentry"]
# Officers verify a customer's declared income (risk.services income_verify) from a decision
# and read why the nightly rescoring changed a line (its reviews); managers also read the
# models, their promotions, the simulator's truth, the nightly score distributions and how each
# night's rescoring was planned, and promote a model to champion or mark a challenger.
_RISK_OFFICER = ["view_creditdecision", *_BLOCK_LIST, "view_incomeverification",
                 "add_incomeverification", "view_linereview"]
_RISK_MANAGER = [*_RISK_OFFICER, "view_modelversion", "view_modelpromotion",
                 "view_simulatedcustomer", "promote_modelversion", "view_scoredistribution",
                 "view_rescoringnight"]

_OFFICER = (
    [("lending", p) for p in _LENDING_VIEW + _OFFICER_ACTIONS]
    + _PLATFORM_VIEW + _CUSTOMER_VIEW
    + [("risk", p) for p in _RISK_OFFICER]
    + [("debt_collection", p) for p in [*_COLLECTIONS_VIEW, "decide_hardshiprequest"]]
    # An officer sees the requests they made; deciding one is a senior officer's.
    + [("core", "view_approvalrequest"), ("operations", "view_vintagesnapshot")]
)
# Collectors read what a call needs (loans, schedules, payments, notices sent) and work the
# cases assigned to them; identity and phone numbers reach them masked.
_COLLECTOR = (
    [("lending", p) for p in ["view_creditline", "view_loan", "view_instalment",
                              "view_repayment"]]
    + [("accounts", "view_customerprofile"), ("accounts", "view_notice")]
    + [("debt_collection", p) for p in ["view_collectioncase", "view_collectioncontact",
                                        "view_promisetopay", "view_hardshiprequest",
                                        "work_collectioncase"]]
)
# Everything any role may read, and the audit trail; no change of any kind. Kept explicit (not
# "every view_ permission") so that a new table is a decision; tests/accounts/test_roles.py
# fails when a table of ours is missing here.
_AUDITOR = (
    [("core", p) for p in ["view_businessdate", "view_idempotencyrecord", "view_auditevent",
                           "view_approvalrequest"]]
    + [("accounts", p) for p in ["view_user", "view_customerprofile", "view_customersignals",
                                 "view_partnerbank", "view_partnerapiclient", "view_notice",
                                 "view_merchant", "view_merchantapiclient",
                                 "view_unmasked_identity"]]
    + [("lending", p) for p in _LENDING_VIEW]
    + [("risk", p) for p in ["view_modelversion", "view_modelpromotion", "view_creditdecision",
                             "view_incomeverification", "view_blocklistentry",
                             "view_simulatedcustomer", "view_linescore",
                             "view_linescoremonthend", "view_scoredistribution",
                             "view_linereview", "view_rescoringnight",
                             "view_rescoringnightcustomer"]]
    + [("debt_collection", p) for p in [*_COLLECTIONS_VIEW]]
    + [("operations", p) for p in ["view_closerun", "view_closestep", "view_closechunk",
                                   "view_vintagesnapshot"]]
)

ROLE_PERMISSIONS = {
    RISK_OFFICER: _OFFICER,
    # The approver of maker-checker requests (core/approvals.py): an officer who also decides.
    SENIOR_OFFICER: [*_OFFICER, ("core", "decide_approvalrequest")],
    COLLECTOR: _COLLECTOR,
    # Managers see every case, reassign them, see numbers unmasked, and watch the buckets. They
    # are not in the Collector group, so the close's round robin never hands them cases.
    COLLECTIONS_MANAGER: [*_COLLECTOR, ("debt_collection", "assign_collectioncase"),
                          ("debt_collection", "view_bucketsnapshot"),
                          ("accounts", "view_unmasked_identity"),
                          ("lending", "view_writeoff"), ("lending", "view_recovery"),
                          ("operations", "view_vintagesnapshot"), *_PLATFORM_VIEW],
    RISK_MANAGER: (
        [p for p in _OFFICER if p[0] != "risk"]
        + [("risk", p) for p in _RISK_MANAGER]
        + [("core", "decide_approvalrequest"), ("accounts", "view_partnerbank")]
        # Managers unlock a customer locked out by repeated failed logins (django-axes).
        + [("axes", "view_accessattempt"), ("axes", "delete_accessattempt")]
    ),
    AUDITOR: _AUDITOR,
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

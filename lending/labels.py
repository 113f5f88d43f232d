"""The lending choice labels customers read, marked for translation.

The labels live on lending's models in English (`get_status_display()` and the like); the
customer pages translate them where shown, e.g. `{% translate loan.get_status_display context
"loan status" %}`, which looks the English label up in the catalogue under that context (a
line that is "Active" and a loan that is "Active" read differently in Chinese). `makemessages`
finds them here; tests/accounts/test_language.py checks that every label of these choices is
here and translated, so that a renamed label cannot silently fall back to English."""

from django.utils.translation import pgettext_lazy

from .models import CreditLineStatus, InstalmentStatus, LoanStatus, RepaymentMethod

# Choices -> (context used in the templates, the labels marked under it).
CUSTOMER_LABELS = {
    CreditLineStatus: (
        "line status",
        [
            pgettext_lazy("line status", "Active"),
            pgettext_lazy("line status", "Frozen"),
            pgettext_lazy("line status", "Closed"),
        ],
    ),
    LoanStatus: (
        "loan status",
        [
            pgettext_lazy("loan status", "Active"),
            pgettext_lazy("loan status", "Paid off"),
            pgettext_lazy("loan status", "Written off"),
        ],
    ),
    InstalmentStatus: (
        "instalment status",
        [
            pgettext_lazy("instalment status", "Not yet due"),
            pgettext_lazy("instalment status", "Overdue"),
            pgettext_lazy("instalment status", "Paid"),
            pgettext_lazy("instalment status", "Replaced by a new schedule"),
        ],
    ),
    RepaymentMethod: (
        "repayment method",
        [
            pgettext_lazy("repayment method", "Equal instalments"),
            pgettext_lazy("repayment method", "Equal principal"),
            pgettext_lazy("repayment method", "Interest first, principal at the end"),
        ],
    ),
}

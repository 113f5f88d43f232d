"""The A-card features' reasons, marked for translation.

Each feature's sentences (`reason_up`, `reason_down`) are part of its definition in
`risk.features.application`, whose source a model's feature hash covers: marking them there
would change the hash and retire every trained model. So they are marked here, where
`makemessages` finds them; a decision translates its reasons into the applicant's language when
it is made (risk.services.decisions). tests/accounts/test_language.py checks that this list is
exactly the features' sentences, so a changed sentence cannot silently stay in English."""

from django.utils.translation import gettext_noop

FEATURE_REASONS = [
    gettext_noop("Your age group has a higher rate of missed payments."),
    gettext_noop("Your age group has a low rate of missed payments."),
    gettext_noop("Your income is low for the credit you asked for."),
    gettext_noop("Your income comfortably supports repayments."),
    gettext_noop("Your monthly payments on other debts are high compared with your income."),
    gettext_noop("You have little other debt compared with your income."),
    gettext_noop("Your employment situation suggests a less steady income."),
    gettext_noop("Your employment gives you a steady income."),
    gettext_noop("You have been with your current employer for a short time."),
    gettext_noop("You have been with your employer for a long time."),
    gettext_noop("Customers in your area have had more difficulty repaying."),
    gettext_noop("Customers in your area repay reliably."),
    gettext_noop("Your housing situation is linked with more missed payments."),
    gettext_noop("Your housing situation is stable."),
    gettext_noop("Your shopping pattern is linked with more missed payments."),
    gettext_noop("Your regular shopping history counts in your favour."),
    gettext_noop("Your monthly spending is high compared with your income."),
    gettext_noop("Your spending is modest compared with your income."),
    gettext_noop("Some of your bills were paid late in the last year."),
    gettext_noop("You pay your bills on time."),
    gettext_noop("Your shopping and payment account is new."),
    gettext_noop("You have a long-standing shopping and payment account."),
    gettext_noop("You have had your phone number for a short time."),
    gettext_noop("You have kept the same phone number for a long time."),
    gettext_noop("You changed devices often in the last year."),
    gettext_noop("You use the same device consistently."),
]

"""Errors the lending services raise for a caller to show: each carries a stable code.

Amount and idempotency errors are the platform's own (`core.errors`), shared by every app."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy

from core.errors import DomainError


class LendingError(DomainError):
    """`translated`: the message was written in the active language (marked for translation
    and formatted when raised), so a customer's page shows it as it is, figures and all."""

    code = "invalid"
    translated = False

    def __init__(self, message, code=None, *, translated=None):
        super().__init__(message, code)
        if translated is not None:
            self.translated = translated


class QuoteRefused(LendingError):
    code = "quote_refused"


class ExtensionRefused(LendingError):
    """A term extension the rules do not allow, or a preview the loan has moved on from."""

    code = "extension_refused"


class InsufficientCredit(LendingError):
    code = "insufficient_credit"


class LineNotUsable(LendingError):
    code = "line_not_usable"


class Overpayment(LendingError):
    code = "overpayment"


class LoanNotRepayable(LendingError):
    code = "loan_not_repayable"


class TransitionRefused(LendingError):
    """A status change the transition map does not allow from the current status."""

    code = "transition_refused"


# What a customer reads of a refusal whose message is English only (the cash-loan services',
# the platform's amount and idempotency errors), by its code. Those messages carry their
# figures (the amount, the pay-off) and are what an English page shows; a page in another
# language shows the sentence for the refusal's code instead, translated. The figures the
# customer needs are on the same page (the pay-off, the available credit). The pay-later and
# checkout services translate their refusals when they raise them (`translated`).
CUSTOMER_MESSAGES = {
    "quote_refused": gettext_lazy("These terms cannot be quoted for this line: check the "
                                  "amount, the term and the repayment method."),
    "stale_quote": gettext_lazy("The business date has moved on since this quote, so its "
                                "dates and interest no longer hold: get a new quote."),
    "insufficient_credit": gettext_lazy("Your line does not have enough available credit for "
                                        "this amount."),
    "line_not_usable": gettext_lazy("This credit line cannot be drawn on at the moment."),
    "overpayment": gettext_lazy("This is more than you owe on this loan: pay at most the "
                                "amount that pays it off today."),
    "loan_not_repayable": gettext_lazy("This loan is already settled."),
    "invalid_amount": gettext_lazy("Enter a valid amount."),
    "idempotency_conflict": gettext_lazy("This form was already sent with other figures: "
                                         "reload the page and try again."),
}
GENERIC_MESSAGE = gettext_lazy("We could not do this. Please check the figures and try again.")


def customer_message(error) -> str:
    """The refusal as the customer reads it in the active language."""
    if getattr(error, "translated", False) or translation.get_language() == settings.LANGUAGE_CODE:
        return str(error)
    return str(CUSTOMER_MESSAGES.get(error.code, GENERIC_MESSAGE))

"""Customer forms for borrowing and repaying. Amounts are parsed as Decimal, never float; the
services re-check everything under their locks, and their errors are shown on these forms."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from core.money_format import money_text

from .models import RepaymentMethod

AMOUNT_MESSAGES = {
    "invalid": gettext_lazy("Enter the amount as a number, like 1000 or 1000.50."),
    "min_value": gettext_lazy("The amount must be more than zero."),
    "max_decimal_places": gettext_lazy("Use at most two decimals (cents)."),
    "max_digits": gettext_lazy("That amount is too large."),
    "max_whole_digits": gettext_lazy("That amount is too large."),
}


def amount_field(**kwargs):
    # A text input with a decimal keypad: number inputs vary by browser and locale, and the
    # server's message for "12,5" or "1e3" should be the one a customer sees.
    return forms.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0.01"),
                              label=format_lazy(gettext_lazy("Amount ({currency})"),
                                                currency=settings.CURRENCY),
                              error_messages=AMOUNT_MESSAGES,
                              widget=forms.TextInput(attrs={"inputmode": "decimal",
                                                            "autocomplete": "off"}),
                              **kwargs)


class LineChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, line):
        return _("%(product)s (available %(amount)s)") % {"product": line.product.name,
                                                         "amount": money_text(line.available)}


class BorrowForm(forms.Form):
    """Step 1: which line, how much, how long, how to repay."""

    # Tell the customer at once when the amount is more than the line has left.
    checks_available = True

    line = LineChoiceField(queryset=None, empty_label=None, label=gettext_lazy("Credit line"))
    amount = amount_field()
    term_months = forms.TypedChoiceField(coerce=int, label=gettext_lazy("Term"),
                                         widget=forms.RadioSelect)
    method = forms.ChoiceField(label=gettext_lazy("Repayment"), widget=forms.RadioSelect)

    def __init__(self, *args, lines, **kwargs):
        """`lines`: a queryset of the customer's lines that can be drawn on now."""
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = lines
        lines = list(lines)
        if len(lines) == 1:
            self.fields["line"].widget = forms.HiddenInput()
            self.fields["line"].initial = lines[0].pk
        # Offer what any of the customer's lines offers; clean() holds each line to its own.
        terms = sorted({t for line in lines for t in line.product.allowed_terms})
        self.fields["term_months"].choices = [
            (t, ngettext("%(months)d month", "%(months)d months", t) % {"months": t})
            for t in terms]
        methods = {m for line in lines for m in line.product.repayment_methods}
        # The labels are lending's models' English ones, translated here (lending/labels.py).
        self.fields["method"].choices = [(value, pgettext("repayment method", label))
                                         for value, label in RepaymentMethod.choices
                                         if value in methods]

    def clean(self):
        cleaned = super().clean()
        line, amount = cleaned.get("line"), cleaned.get("amount")
        term, method = cleaned.get("term_months"), cleaned.get("method")
        if line is None:
            return cleaned
        product = line.product
        if term is not None and term not in product.allowed_terms:
            offered = ", ".join(str(t) for t in product.allowed_terms)
            self.add_error("term_months", _("%(product)s is offered for %(terms)s months.")
                           % {"product": product.name, "terms": offered})
        if method and method not in product.repayment_methods:
            self.add_error("method", _("%(product)s does not offer this repayment method.")
                           % {"product": product.name})
        if self.checks_available and amount is not None and amount > line.available:
            self.add_error("amount", _("Only %(amount)s is available on this line.")
                           % {"amount": money_text(line.available)})
        return cleaned


class ConfirmBorrowForm(BorrowForm):
    """Step 2: the quoted terms again, hidden, with the key that makes a resubmission harmless
    and the business date the quote was made on."""

    # Origination checks `available` under the line's lock, after it has recognised a
    # resubmission: checked here, a resubmitted confirmation would be refused for want of the
    # credit its own first submission used, instead of showing that loan.
    checks_available = False

    idempotency_key = forms.CharField(max_length=128, widget=forms.HiddenInput)
    quoted_on = forms.DateField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget = forms.HiddenInput()


class RepayForm(forms.Form):
    amount = amount_field()
    idempotency_key = forms.CharField(max_length=128, widget=forms.HiddenInput)

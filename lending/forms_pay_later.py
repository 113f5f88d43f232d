"""Customer forms of the pay-later line (花呗): pay, convert to instalments (分期), settle a plan
early. Amounts are Decimal, never float; the services re-check everything under their locks,
and their refusals are shown on these forms."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money_format import money_text

PAY_FULL = "full"
PAY_MINIMUM = "minimum"
PAY_OTHER = "other"


def _amount_field(**kwargs):
    return forms.DecimalField(
        max_digits=18,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={
            "invalid": _("Enter the amount as a number, like 1000 or 1000.50."),
            "min_value": _("The amount must be more than zero."),
            "max_decimal_places": _("Use at most two decimals (cents)."),
            "max_digits": _("That amount is too large."),
            "max_whole_digits": _("That amount is too large."),
        },
        **kwargs,
    )


class PayForm(forms.Form):
    """Pay the statement in full, its minimum, or another amount.

    The amounts of "in full" and "the minimum" travel in hidden fields as they were shown, so a
    resubmission carries the same amount as the first submission and the payment service
    recognises it by its key instead of paying again."""

    choice = forms.ChoiceField(label=_("How much to pay"), widget=forms.RadioSelect)
    amount = _amount_field(
        required=False,
        label=_("Amount"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    full_amount = _amount_field(required=False, widget=forms.HiddenInput)
    minimum_amount = _amount_field(required=False, widget=forms.HiddenInput)
    idempotency_key = forms.CharField(max_length=128, widget=forms.HiddenInput)

    def __init__(self, *args, full=None, full_is_statement=True, minimum=None, **kwargs):
        """`full`: what pays everything the choice "in full" stands for (the open statement's
        balance, or the unbilled purchases when no statement is owed); `minimum`: the minimum
        left to pay, offered only when it is less than the full amount."""
        super().__init__(*args, **kwargs)
        if self.is_bound:
            # The amounts the customer was shown: a resubmission after the payment went
            # through (a double click) must still validate, to be recognised by its key.
            full = self._posted("full_amount") or full
            minimum = self._posted("minimum_amount") or minimum
        choices = []
        if full:
            label = (
                _("The statement in full: %(amount)s")
                if full_is_statement
                else _("Everything you owe: %(amount)s")
            )
            choices.append((PAY_FULL, label % {"amount": money_text(full)}))
        if minimum and (not full or minimum < full):
            choices.append(
                (
                    PAY_MINIMUM,
                    _("The minimum payment: %(amount)s") % {"amount": money_text(minimum)},
                )
            )
        choices.append((PAY_OTHER, _("Another amount")))
        self.fields["choice"].choices = choices
        if not self.is_bound:
            self.initial.setdefault("choice", choices[0][0])
            self.initial.setdefault("full_amount", full)
            self.initial.setdefault("minimum_amount", minimum)

    def _posted(self, name):
        try:
            return self.fields[name].clean(self.data.get(self.add_prefix(name)))
        except forms.ValidationError:
            return None

    def clean(self):
        cleaned = super().clean()
        choice = cleaned.get("choice")
        amounts = {
            PAY_FULL: cleaned.get("full_amount"),
            PAY_MINIMUM: cleaned.get("minimum_amount"),
            PAY_OTHER: cleaned.get("amount"),
        }
        if choice == PAY_OTHER and amounts[PAY_OTHER] is None and "amount" not in self.errors:
            self.add_error("amount", _("Enter the amount you want to pay."))
        elif choice in (PAY_FULL, PAY_MINIMUM) and amounts[choice] is None:
            self.add_error(None, _("This form is out of date: please choose again."))
        cleaned["pay_amount"] = amounts.get(choice)
        return cleaned


class TermForm(forms.Form):
    """Step 1 of a conversion: how many monthly parts."""

    term_months = forms.TypedChoiceField(
        coerce=int, label=_("Number of monthly parts"), widget=forms.RadioSelect
    )

    def __init__(self, *args, terms, **kwargs):
        """`terms`: {months: fee rate} the product offers."""
        super().__init__(*args, **kwargs)
        self.fields["term_months"].choices = [
            (months, _("%(months)s months (fee %(rate)s%%)") % {"months": months, "rate": rate})
            for months, rate in terms
        ]


class ConfirmPlanForm(forms.Form):
    """Step 2: the term quoted and the quote's fingerprint, so that what is booked is what the
    customer saw (the service refuses a quote that has changed since)."""

    term_months = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    shown = forms.CharField(max_length=128, widget=forms.HiddenInput)


class KeyedConfirmForm(forms.Form):
    """A confirmation that moves money: its key makes a double click or a refresh harmless."""

    idempotency_key = forms.CharField(max_length=128, widget=forms.HiddenInput)

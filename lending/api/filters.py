"""Query filters of the partner API. An invalid value is a 400 naming the parameter: the
filter backend raises for an invalid filter form instead of ignoring the value."""

import django_filters
from django import forms

from ..models import Loan, LoanStatus


class LoanFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("disbursed_from"), cleaned.get("disbursed_to")
        if start and end and start > end:
            self.add_error("disbursed_to", "Must not be before disbursed_from.")
        return cleaned


class LoanFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LoanStatus.choices,
                                         help_text="Only loans in this status.")
    disbursed_from = django_filters.DateFilter(
        field_name="disbursed_on", lookup_expr="gte",
        help_text="Only loans disbursed on or after this day (YYYY-MM-DD).")
    disbursed_to = django_filters.DateFilter(
        field_name="disbursed_on", lookup_expr="lte",
        help_text="Only loans disbursed on or before this day (YYYY-MM-DD).")

    class Meta:
        model = Loan
        form = LoanFilterForm
        fields = ["status", "disbursed_from", "disbursed_to"]

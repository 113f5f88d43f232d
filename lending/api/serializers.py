"""Output of the partner API. Nothing here names the customer: a loan is shown with its terms,
balances, the calling bank's own funding and, in detail, its schedule."""

from rest_framework import serializers

from ..models import Instalment, Loan


def _money(source):
    return serializers.DecimalField(max_digits=18, decimal_places=2, source=source,
                                    read_only=True)


class BankFundingSerializer(serializers.Serializer):
    """The calling bank's part of the loan, read from the annotations LoanViewSet makes."""

    share = serializers.DecimalField(max_digits=10, decimal_places=8, source="bank_share",
                                     read_only=True, help_text="The bank's share of the loan.")
    principal = _money("bank_principal")
    outstanding_principal = _money("bank_outstanding_principal")


class InstalmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Instalment
        fields = ["seq", "due_date", "principal_due", "interest_due", "fee_due", "penalty_due",
                  "principal_paid", "interest_paid", "fee_paid", "penalty_paid", "paid_on",
                  "status"]
        read_only_fields = fields


class LoanSummarySerializer(serializers.ModelSerializer):
    """A loan as the list shows it: terms, balances and the bank's funding, no schedule."""

    funding = BankFundingSerializer(source="*", read_only=True)

    class Meta:
        model = Loan
        fields = ["id", "status", "principal", "term_months", "method", "daily_rate", "apr",
                  "disbursed_on", "outstanding_principal", "days_past_due", "funding"]
        read_only_fields = fields


class LoanDetailSerializer(LoanSummarySerializer):
    """A loan with its schedule, for the detail route."""

    schedule = InstalmentSerializer(source="instalments", many=True, read_only=True)

    class Meta(LoanSummarySerializer.Meta):
        fields = [*LoanSummarySerializer.Meta.fields, "schedule"]
        read_only_fields = fields


class ErrorSerializer(serializers.Serializer):
    """The body of a 401, 403 or 404 (documentation only: DRF's exception handler writes it)."""

    detail = serializers.CharField()
    required_scopes = serializers.ListField(
        child=serializers.CharField(), required=False,
        help_text="On a 403 for a token without the scope this API needs.")

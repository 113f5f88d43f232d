"""Input and output of the merchant API. Inputs are checked here for shape (each field's
reason in a 400); the service checks the rest (the return URL's prefix, the idempotency key)."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.errors import InvalidAmount
from core.money import to_amount

from ...models import Checkout, CheckoutStatus, Refund


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": r"^\d+(\.\d{1,2})?$", "example": "199.00"}
)
class AmountField(serializers.Field):
    """An amount as a decimal string ("199.00"): more than zero, at most two decimals. A JSON
    number that is not whole is refused, as every amount entering the platform is
    (core.money)."""

    def to_internal_value(self, data):
        try:
            return to_amount(data, what="The amount")
        except InvalidAmount as error:
            raise serializers.ValidationError(str(error)) from None

    def to_representation(self, value):
        return f"{value:.2f}"


class CheckoutCreateSerializer(serializers.Serializer):
    amount = AmountField(help_text="What the customer pays, in the platform's currency.")
    order_reference = serializers.CharField(
        max_length=64, help_text="The merchant's order: one purchase per order reference."
    )
    description = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Shown to the customer.",
    )
    return_url = serializers.CharField(
        max_length=500,
        help_text=(
            "Where the customer is sent back after confirming or cancelling, with "
            "`?checkout=<token>&status=<status>` added; it must start with one of the "
            "merchant's registered return URL prefixes."
        ),
    )


class RefundCreateSerializer(serializers.Serializer):
    amount = AmountField(help_text="At most what was paid less what was refunded before.")
    reference = serializers.CharField(
        max_length=64,
        help_text=(
            "The merchant's refund reference, its idempotency key: the "
            "same reference and amount return the first refund."
        ),
    )


class RefundSerializer(serializers.ModelSerializer):
    amount = AmountField(read_only=True)

    class Meta:
        model = Refund
        fields = ["reference", "amount", "business_date", "created_at"]
        read_only_fields = fields


class CheckoutSerializer(serializers.ModelSerializer):
    """A checkout as its merchant reads it: its state, the purchase it made once paid, and the
    purchase's refunds. Nothing names the customer."""

    amount = AmountField(read_only=True)
    status = serializers.ChoiceField(choices=CheckoutStatus.choices, read_only=True)
    checkout_url = serializers.SerializerMethodField(
        help_text="The platform's checkout page: send the customer there."
    )
    purchase_id = serializers.IntegerField(read_only=True, allow_null=True)
    amount_refunded = serializers.SerializerMethodField()
    refunds = serializers.SerializerMethodField()

    class Meta:
        model = Checkout
        fields = [
            "token",
            "status",
            "amount",
            "order_reference",
            "description",
            "return_url",
            "checkout_url",
            "expires_at",
            "created_at",
            "completed_at",
            "purchase_id",
            "amount_refunded",
            "refunds",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_checkout_url(self, checkout):
        path = reverse("checkout", args=[checkout.token])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field({"type": "string", "format": "decimal", "example": "0.00"})
    def get_amount_refunded(self, checkout):
        refunded = checkout.purchase.refunded if checkout.purchase_id else 0
        return f"{refunded:.2f}"

    @extend_schema_field(RefundSerializer(many=True))
    def get_refunds(self, checkout):
        if checkout.purchase_id is None:
            return []
        refunds = checkout.purchase.refunds.order_by("pk")
        return RefundSerializer(refunds, many=True).data


class MerchantErrorSerializer(serializers.Serializer):
    """The body of a refusal (documentation only: the exception handlers write it)."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False, help_text="On a 400 or 409 from the service.")

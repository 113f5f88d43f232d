"""The merchant API's one resource, the checkout: create (with an Idempotency-Key), read, and
refund its purchase. Scoped to the calling merchant in `get_queryset`: another merchant's
checkout is not found (404). Refusals are a 400 with a reason (409 for a reused key or refund
reference with another request), from the services' errors (config/api_errors.py)."""

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from ...models import Checkout
from ...services import checkout_create, checkout_refund
from .permissions import IsActiveMerchant, merchant_of_token
from .serializers import (
    CheckoutCreateSerializer,
    CheckoutSerializer,
    MerchantErrorSerializer,
    RefundCreateSerializer,
    RefundSerializer,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
ERRORS = {
    401: OpenApiResponse(
        MerchantErrorSerializer, description="No token, or an invalid or expired one."
    ),
    403: OpenApiResponse(
        MerchantErrorSerializer,
        description=(
            "The token lacks the `checkout` scope, its client is not a merchant's, or the "
            "merchant is inactive."
        ),
    ),
}
REFUSED = OpenApiResponse(
    MerchantErrorSerializer,
    description=(
        "Refused, with the reason: a field's value (each field named with its reasons), or what "
        "the service refused (`detail` and `code`)."
    ),
)
NOT_FOUND = OpenApiResponse(
    MerchantErrorSerializer,
    description=("No checkout with this token belongs to the calling merchant."),
)


@extend_schema_view(
    create=extend_schema(
        summary="Create a checkout for an order",
        description=(
            "Send the customer to the answer's `checkout_url`. The checkout waits for the "
            "customer for 30 minutes (by default), then expires. A replay with the same "
            "Idempotency-Key and body answers with the same checkout; the same key with another "
            "body is a 409."
        ),
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                location=OpenApiParameter.HEADER,
                required=True,
                description="1 to 128 printable characters, unique per request of this merchant.",
            )
        ],
        request=CheckoutCreateSerializer,
        responses={
            201: CheckoutSerializer,
            400: REFUSED,
            **ERRORS,
            409: OpenApiResponse(
                MerchantErrorSerializer,
                description=("The Idempotency-Key was used before with another body."),
            ),
        },
    ),
    retrieve=extend_schema(
        summary="A checkout's state, its purchase and refunds",
        responses={200: CheckoutSerializer, **ERRORS, 404: NOT_FOUND},
    ),
    refunds=extend_schema(
        summary="Refund (part of) a paid checkout",
        description=(
            "The reference is the refund's idempotency key: the same reference and "
            "amount answer with the first refund; another amount is a 409."
        ),
        request=RefundCreateSerializer,
        responses={
            201: RefundSerializer,
            400: REFUSED,
            **ERRORS,
            404: NOT_FOUND,
            409: OpenApiResponse(
                MerchantErrorSerializer,
                description=("The reference was used before for another amount."),
            ),
        },
    ),
)
class CheckoutViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """The calling merchant's checkouts; another merchant's is not found (404)."""

    # Read by the schema generator for the model; every request is served from get_queryset.
    queryset = Checkout.objects.none()
    permission_classes = [IsActiveMerchant]
    required_scopes = ["checkout"]
    serializer_class = CheckoutSerializer
    lookup_field = "token"
    lookup_value_regex = r"[A-Za-z0-9_-]{1,64}"

    def get_queryset(self):
        return Checkout.objects.filter(
            merchant=merchant_of_token(self.request.auth)
        ).select_related("purchase")

    def create(self, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if not key:
            raise ValidationError(
                {
                    IDEMPOTENCY_HEADER: [
                        "This header is required: a key of 1 to 128 printable characters, "
                        "unique per checkout you create."
                    ]
                }
            )
        given = CheckoutCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        checkout = checkout_create(
            merchant=merchant_of_token(request.auth), idempotency_key=key, **given.validated_data
        )
        body = CheckoutSerializer(checkout, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def refunds(self, request, *args, **kwargs):
        checkout = self.get_object()
        given = RefundCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        refund = checkout_refund(checkout=checkout, **given.validated_data)
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)

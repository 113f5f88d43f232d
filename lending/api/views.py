"""The partner-bank API: a bank reads the loans it co-funds, and no others."""

from django.db.models import F, FilteredRelation, Prefetch, Q
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.viewsets import ReadOnlyModelViewSet

from ..models import Instalment, Loan
from ..selectors import loans_funded_by
from .filters import LoanFilter
from .pagination import LoanCursorPagination
from .permissions import IsActivePartnerBank, partner_bank_of
from .serializers import ErrorSerializer, LoanDetailSerializer, LoanSummarySerializer

ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="No token, or an invalid or expired one."),
    403: OpenApiResponse(ErrorSerializer, description=(
        "The token lacks the `loans:read` scope, its client is not a partner bank's, or the "
        "bank is inactive.")),
}
INVALID_PARAMETERS = OpenApiResponse(
    {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    description="A query parameter has an invalid value: each one named with its reasons.")


@extend_schema_view(
    list=extend_schema(
        summary="Loans the calling bank co-funds",
        description="Newest first, a page at a time: follow `next` until it is null.",
        responses={200: LoanSummarySerializer(many=True), 400: INVALID_PARAMETERS, **ERRORS,
                   404: OpenApiResponse(ErrorSerializer, description="The cursor is invalid.")},
    ),
    retrieve=extend_schema(
        summary="One loan with its schedule",
        responses={200: LoanDetailSerializer, **ERRORS,
                   404: OpenApiResponse(ErrorSerializer, description=(
                       "No loan with this id is co-funded by the calling bank."))},
    ),
)
class LoanViewSet(ReadOnlyModelViewSet):
    """Loans co-funded by the calling bank; another bank's loan is not found (404)."""

    # Read by the schema generator and the filter backend for the model; every request is
    # served from get_queryset, so an empty default leaks nothing if that ever changes.
    queryset = Loan.objects.none()
    permission_classes = [IsActivePartnerBank]
    required_scopes = ["loans:read"]
    filterset_class = LoanFilter
    pagination_class = LoanCursorPagination

    def get_serializer_class(self):
        return LoanDetailSerializer if self.action == "retrieve" else LoanSummarySerializer

    def get_queryset(self):
        bank = partner_bank_of(self.request.auth)
        loans = (
            loans_funded_by(bank)
            # The bank's own funding row, joined by condition so that it is one row per loan
            # whatever the selector's join does.
            .alias(bank_funding=FilteredRelation("fundings",
                                                 condition=Q(fundings__partner_bank=bank)))
            .annotate(bank_share=F("bank_funding__share"),
                      bank_principal=F("bank_funding__principal"),
                      bank_outstanding_principal=F("bank_funding__outstanding_principal"))
        )
        if self.action == "retrieve":
            loans = loans.prefetch_related(
                Prefetch("instalments", queryset=Instalment.objects.order_by("seq")))
        return loans

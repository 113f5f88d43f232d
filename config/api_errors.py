"""API error responses: domain errors from the services become a 400 (or 409) with a reason."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from lending.errors import IdempotencyConflict, LendingError


def exception_handler(exc, context):
    if isinstance(exc, IdempotencyConflict):
        return Response({"detail": str(exc), "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, LendingError):
        return Response({"detail": str(exc), "code": exc.code}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)

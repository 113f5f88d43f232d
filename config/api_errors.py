"""API error responses: domain errors from the services become a 400 (or 409) with a reason."""

import logging

from django.core.exceptions import SuspiciousOperation
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError, IdempotencyConflict


def exception_handler(exc, context):
    if isinstance(exc, IdempotencyConflict):
        return Response({"detail": str(exc), "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DomainError):
        return Response({"detail": str(exc), "code": exc.code}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, SuspiciousOperation):
        # OAuth2Authentication raises this for a malformed query string. Django would log it to
        # django.security and answer with an HTML page; log it the same way, answer in JSON.
        logging.getLogger(f"django.security.{exc.__class__.__name__}").error(
            str(exc), exc_info=exc,
            extra={"status_code": 400, "request": context["request"]._request})
        return Response({"detail": "Malformed request."}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)

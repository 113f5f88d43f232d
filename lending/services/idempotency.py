"""One effect per idempotency key: the first request's result is stored and replayed."""

import hashlib
import json

from django.db import IntegrityError, transaction

from ..errors import IdempotencyConflict, LendingError
from ..models import IdempotencyRecord


def request_fingerprint(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_key_claim(*, scope: str, key: str, payload: dict):
    """Claim `key` for this caller inside the caller's transaction.

    Returns (record, None) when this request is the first: the caller does the work and then
    calls `idempotency_result_store`. Returns (record, result) on a replay. A concurrent request
    with the same key waits on the unique index until the first commits or rolls back; a first
    request that failed left nothing, so the next one does the work."""
    if not key or len(key) > 128 or not key.isprintable():
        raise LendingError("An idempotency key of 1 to 128 printable characters is required.",
                           code="invalid_idempotency_key")
    fingerprint = request_fingerprint(payload)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(scope=scope, key=key,
                                                      request_hash=fingerprint, result={})
            return record, None
    except IntegrityError:
        record = IdempotencyRecord.objects.get(scope=scope, key=key)
    if record.request_hash != fingerprint:
        raise IdempotencyConflict("This idempotency key was already used for another request.")
    return record, record.result


def idempotency_result_store(record, result: dict):
    IdempotencyRecord.objects.filter(pk=record.pk).update(result=result)

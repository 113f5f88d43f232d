"""One effect per idempotency key: the first request's result is stored and replayed
(docs/architecture.md, "Idempotency")."""

import hashlib
import json

from django.db import IntegrityError, transaction

from .audit import Actor, actor_system
from .batch import rows_insert
from .errors import DomainError, IdempotencyConflict
from .models import ActorKind, IdempotencyRecord

MAX_KEY_LENGTH = 128

def scope_of_user(user_id) -> str:
    """The scope of a customer's own requests: one key space per signed-in user."""
    return f"user:{user_id}"

def actor_of_scope(scope: str) -> Actor:
    """Who made a request, from its idempotency scope: the scope already names the caller, so a
    money-moving service audits the same caller it deduplicates for. A scope that names no user
    (a batch, a test) is the system acting under that name."""
    kind, _, ident = scope.partition(":")
    if kind == "user" and ident.isdigit():
        return Actor(kind=ActorKind.USER, id=ident, label=f"user {ident}")
    return actor_system(scope)


def request_fingerprint(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()

def idempotency_key_check(key):
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise DomainError("An idempotency key of 1 to 128 printable characters is required.",
                          code="invalid_idempotency_key")

def idempotency_key_claim(*, scope: str, key: str, payload: dict):
    """Claim `key` for this caller inside the caller's transaction.

    Returns (record, None) when this request is the first: the caller does the work and then
    calls `idempotency_result_store`. Returns (record, result) on a replay. A concurrent request
    with the same key waits on the unique index until the first commits or rolls back; a first
    request that failed left nothing, so the next one does the work."""
    idempotency_key_check(key)
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

def idempotency_records_store_many(rows):
    """Many first results at once, for a set-based booking path: rows of
    (scope, key, payload, result). The same keys the one-at-a-time path would claim."""
    rows_insert(IdempotencyRecord, ["scope", "key", "request_hash", "result"],
                [(scope, key, request_fingerprint(payload), result)
                 for scope, key, payload, result in rows])

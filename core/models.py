"""The platform's own tables: the business date, idempotency records (docs/architecture.md)
and the audit chain.

The first two were lending's tables before the platform layer existed; they keep their table
names, so no row moved when they did."""

import pgtrigger
from django.db import models
from django.db.models import Q


class BusinessDate(models.Model):
    """The lender's current day (营业日): one row; only the nightly close moves it."""

    singleton = models.BooleanField(primary_key=True, default=True)
    current = models.DateField()

    class Meta:
        db_table = "lending_businessdate"
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="one_business_date"),
        ]

    def __str__(self):
        return self.current.isoformat()


class IdempotencyRecord(models.Model):
    """The first result of a money-moving request, replayed for the same caller and key."""

    scope = models.CharField(max_length=80, help_text="Who called: a user or partner client.")
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    result = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "lending_idempotencyrecord"
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="one_result_per_key")]

    def __str__(self):
        return f"{self.scope}:{self.key}"


class ActorKind(models.TextChoices):
    USER = "user", "User"
    CLIENT = "client", "API client"
    SYSTEM = "system", "System"


class AuditEvent(models.Model):
    """One audited action on one subject, hash-chained to the subject's previous event
    (docs/architecture.md, "The audit trail"). Written only by `core.audit`; PostgreSQL refuses
    any update or delete, and `audit_chain_verify` finds a row changed behind its back."""

    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=100,
                                help_text="User pk, OAuth client id or close step name.")
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, help_text='e.g. "loan.originate".')
    subject_kind = models.CharField(max_length=32, help_text='e.g. "loan", "line", "close".')
    subject_id = models.CharField(max_length=64)
    seq = models.PositiveIntegerField(help_text="1, 2, 3... within the subject.")
    payload = models.JSONField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One event per place in a chain, so a chain can never fork. Its index is also
            # the one that reads a subject's chain in order (and verifies the whole table).
            models.UniqueConstraint(fields=["subject_kind", "subject_id", "seq"],
                                    name="one_audit_event_per_seq"),
        ]
        triggers = [pgtrigger.ReadOnly(name="audit_event_append_only"),
                    pgtrigger.Protect(name="audit_event_no_delete", operation=pgtrigger.Delete)]

    def __str__(self):
        return f"{self.subject_kind}:{self.subject_id} #{self.seq} {self.action}"


class AuditChainHead(models.Model):
    """The last link of one subject's chain. Appending locks this row only, so appends to one
    subject queue one behind the other while different subjects never wait for each other."""

    subject_kind = models.CharField(max_length=32)
    subject_id = models.CharField(max_length=64)
    last_seq = models.PositiveIntegerField()
    last_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subject_kind", "subject_id"],
                                               name="one_audit_head_per_subject")]
        # A lost head would restart its subject at seq 1, which the events' unique
        # constraint then refuses: every later action on that subject would fail.
        triggers = [pgtrigger.Protect(name="audit_head_no_delete", operation=pgtrigger.Delete)]

    def __str__(self):
        return f"{self.subject_kind}:{self.subject_id} at #{self.last_seq}"

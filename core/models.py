"""The platform's own tables: the business date, idempotency records (docs/architecture.md),
the audit chain and the maker-checker's approval requests.

The first two were lending's tables before the platform layer existed; they keep their table
names, so no row moved when they did."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q


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


class ApprovalStatus(models.TextChoices):
    REQUESTED = "requested", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed on approval"


class ApprovalRequest(models.Model):
    """An officer's action held for a second officer (maker-checker, 四眼原则): what the maker
    asked for, in words (`summary`) and as the action's inputs (`payload`, amounts as strings),
    until a checker approves it (the action then runs) or rejects it. Written only by
    `core.approvals`."""

    kind = models.CharField(max_length=64, help_text='What would be done, e.g. "line.limit_lower".')
    subject_kind = models.CharField(max_length=32, help_text='e.g. "line", "loan".')
    subject_id = models.CharField(max_length=64)
    payload = models.JSONField(help_text="The action's inputs, as the maker gave them.")
    summary = models.TextField(help_text="What will happen on approval, in words.")
    reason = models.TextField(help_text="The maker's reason.")
    maker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+")
    status = models.CharField(max_length=10, choices=ApprovalStatus.choices,
                              default=ApprovalStatus.REQUESTED)
    checker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(
        blank=True, help_text="The checker's reason for a rejection, or why the action failed.")
    business_date = models.DateField(help_text="The business date of the request.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("decide_approvalrequest",
                        "Can approve or reject another officer's request")]
        indexes = [
            # The queue: open requests first, newest first within each status.
            models.Index(fields=["status", "-created_at"], name="approval_queue"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(checker=F("maker")),
                                   name="approval_checker_not_maker"),
            # An open request has no decision; a decided one has its checker and time.
            models.CheckConstraint(
                condition=Q(status=ApprovalStatus.REQUESTED, checker__isnull=True,
                            decided_at__isnull=True)
                | (~Q(status=ApprovalStatus.REQUESTED) & Q(checker__isnull=False,
                                                           decided_at__isnull=False)),
                name="approval_decided_by_checker"),
            models.CheckConstraint(condition=~Q(status=ApprovalStatus.REJECTED)
                                   | ~Q(decision_reason=""),
                                   name="approval_rejection_has_reason"),
            # One open request per action and subject: a second maker would only duplicate it.
            models.UniqueConstraint(fields=["kind", "subject_kind", "subject_id"],
                                    condition=Q(status=ApprovalStatus.REQUESTED),
                                    name="one_open_approval_per_subject"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.kind} {self.subject_kind}:{self.subject_id}"

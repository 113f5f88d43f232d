"""A rule's changes to many lines' limits and rates at once, for the nightly rescoring
(risk's close step `rescore_lines` decides them, `risk.rescoring_policy` holds the rules).

The officer's and the customer's paths change one line at a time (`lending.services.lines`);
a night's rescoring may change tens of thousands, so here the lines are locked, checked and
written with a few set-based statements in the caller's transaction (the close chunk's). A line
whose limit, rate or drawn balance has moved since the rule read it is left alone: the rule
decided on values that no longer hold, and the next night decides again. So the rule may read
its lines without locking them; only the lines it changes are locked, here."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils import timezone

from core.audit import Actor, AuditDraft, audit_events_append_many
from core.batch import field_in, rows_insert, rows_update

from ..errors import LendingError
from ..models import CreditLine, LimitChange, RateChange


@dataclass(frozen=True)
class LineTermsChange:
    """A new limit and/or daily rate for new draws for one line (None: unchanged), decided from
    the line's `limit_was` and `rate_was`; each with the sentence its record keeps."""

    line_id: int
    limit_was: Decimal
    rate_was: Decimal
    new_limit: Decimal | None = None
    new_rate: Decimal | None = None
    # The outstanding principal the rule read (a lowered limit is never below what is drawn):
    # a draw or repayment since leaves the line alone. None: the rule did not read it.
    drawn_was: Decimal | None = None
    limit_reason: str = ""
    rate_reason: str = ""
    # Added to each audit event's payload: what decided it (model, probability, rule codes).
    audit: dict = field(default_factory=dict)


def lines_terms_change(changes, *, day: date, actor: Actor) -> list[LineTermsChange]:
    """Apply the changes whose lines still have the limit and rate they were decided on;
    return those applied. Joins the caller's transaction and locks the lines (in id order).

    A limit above the officer's cap or a rate outside the product's band is a broken rule,
    not a line to skip: it raises, and the caller's transaction rolls back."""
    changes = sorted((c for c in changes if c.new_limit is not None or c.new_rate is not None),
                     key=lambda c: c.line_id)
    if not changes:
        return []
    lines = {line.pk: line for line in CreditLine.objects.select_for_update(of=("self",))
             .select_related("product").filter(field_in("id", [c.line_id for c in changes]))
             .order_by("pk")}
    applied = [c for c in changes if c.line_id in lines
               and lines[c.line_id].credit_limit == c.limit_was
               and lines[c.line_id].daily_rate == c.rate_was
               and c.drawn_was in (None, lines[c.line_id].outstanding_principal)]
    for change in applied:
        _check(lines[change.line_id], change)

    now = timezone.now()
    rows_update(CreditLine, ["credit_limit", "daily_rate", "updated_at"],
                [(c.limit_was if c.new_limit is None else c.new_limit,
                  c.rate_was if c.new_rate is None else c.new_rate, now, c.line_id)
                 for c in applied])
    limit_changes = [c for c in applied if c.new_limit is not None]
    rows_insert(LimitChange, ["line_id", "old_limit", "new_limit", "reason", "business_date"],
                [(c.line_id, c.limit_was, c.new_limit, c.limit_reason, day)
                 for c in limit_changes])
    rate_changes = [c for c in applied if c.new_rate is not None]
    rows_insert(RateChange, ["line_id", "old_rate", "new_rate", "reason", "business_date"],
                [(c.line_id, c.rate_was, c.new_rate, c.rate_reason, day) for c in rate_changes])

    # One audit event per line: named for the limit's move when it moved, the rate's otherwise,
    # with both in the payload (a night's first rescoring may move most of a book's lines).
    drafts = []
    for c in applied:
        payload = {"reason": c.limit_reason or c.rate_reason, "business_date": day}
        if c.new_limit is not None:
            action = "line.limit_raise" if c.new_limit > c.limit_was else "line.limit_lower"
            payload.update({"from": c.limit_was, "to": c.new_limit})
        else:
            action = "line.rate_change"
        if c.new_rate is not None:
            payload.update({"daily_rate": c.new_rate, "daily_rate_was": c.rate_was})
            if c.new_limit is not None:
                payload["rate_reason"] = c.rate_reason
        drafts.append(AuditDraft(actor=actor, action=action, subject_kind="line",
                                 subject_id=c.line_id, payload={**payload, **c.audit}))
    audit_events_append_many(drafts)
    return applied


def _check(line: CreditLine, change: LineTermsChange) -> None:
    if change.new_limit is not None:
        if change.new_limit < 0:
            raise LendingError(f"Line {line.pk}: a limit is never negative.")
        if line.officer_cap is not None and change.new_limit > line.officer_cap:
            raise LendingError(f"Line {line.pk}: {change.new_limit} is above the officer's cap "
                               f"{line.officer_cap}.")
        if change.new_limit > change.limit_was and change.new_limit > line.product.max_amount:
            raise LendingError(f"Line {line.pk}: {change.new_limit} is above the product's "
                               f"maximum {line.product.max_amount}.")
    if change.new_rate is not None:
        product = line.product
        if not product.min_daily_rate <= change.new_rate <= product.max_daily_rate:
            raise LendingError(f"Line {line.pk}: the daily rate {change.new_rate} is outside "
                               f"the product's band {product.min_daily_rate}-"
                               f"{product.max_daily_rate}.")

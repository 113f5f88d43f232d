"""The nightly close's collection cases (debt_collection/close/cases.py, step
`sync_collection_cases`, after `snapshot_buckets`), set-based, for one chunk of customer ids.

The rule, for the close of business date D (days past due as that night's earlier steps left
them, i.e. as of D+1, so the cases' dates are D+1 too, the collectors' next working day):

* a customer is *in collections* while they have an active loan counted past due, or a
  written-off loan on which something is still owed. A written-off customer's case stays open:
  a write-off is an accounting event, the customer still owes every cent, and what collectors
  bring in afterwards is a recovery (lending/services/write_off.py);
* the case's days past due are the worst of those loans' (a written-off loan keeps the days it
  had when it was written off); its bucket is "written off" when such a loan is still owed,
  else lending's bucket of those days (`lending.rules.delinquency.bucket_of`); its amount
  overdue is the sum of what the overdue instalments of the active loans still owe (lending's
  `amounts_due_by` up to the last due date overdue under the product's grace days), plus
  what is still owed on the written-off loans (`write_off_owed`);
* a customer in collections without an open case gets one; an open case's figures follow the
  customer's loans; a case whose customer is in collections no more (paid, or brought current)
  is closed. Each change of status is an audit event on the case ("collection_case" subject).
* open cases nobody works yet are assigned round robin within their bucket among the active
  members of the Collector group: each case goes to the collector with the fewest open cases
  in its bucket, ties to the lowest user id, counting the cases already assigned, so a rerun or
  a night with new collectors stays fair, and the same book always gives the same assignment.

Everything is selected again inside the chunk's bounds under the open cases' locks, and only
what differs is written, so a rerun of a chunk changes nothing."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Sum

from accounts.models import User
from accounts.roles import COLLECTOR
from core.audit import AuditDraft, actor_system, audit_events_append_many
from core.batch import field_in, rows_insert, rows_update
from lending.models import Loan, LoanStatus
from lending.models.loans import Recovery, WriteOff
from lending.rules.delinquency import bucket_of, latest_due_date_overdue_on
from lending.selectors import amounts_due_by
from lending.services.write_off import write_off_owed

from ..models import Bucket, CaseStatus, CollectionCase

ACTOR_NAME = "sync_collection_cases"
ZERO = Decimal("0.00")


def customers_in_collections(day) -> list[int]:
    """Ids of the customers the step may change tonight: those with an active loan counted past
    due (the `loan_delinquent` index) and those with an open case (the partial unique index of
    open cases), ascending."""
    late = set(Loan.objects.filter(overdue_since__isnull=False, status=LoanStatus.ACTIVE)
               .values_list("line__customer_id", flat=True).order_by())
    late.update(CollectionCase.objects.filter(status=CaseStatus.OPEN)
                .values_list("customer_id", flat=True).order_by())
    return sorted(late)


def _within(queryset, field, first_id, last_id):
    if first_id is not None:
        queryset = queryset.filter(**{f"{field}__gte": first_id})
    if last_id is not None:
        queryset = queryset.filter(**{f"{field}__lte": last_id})
    return queryset


def _positions(day, first_id, last_id, open_customers) -> dict[int, tuple[str, int, Decimal]]:
    """{customer id: (bucket, days past due, amount overdue)} for the customers in the bounds
    who are in collections as of the night after `day`."""
    next_day = day + timedelta(days=1)
    late = list(_within(Loan.objects.filter(overdue_since__isnull=False,
                                            status=LoanStatus.ACTIVE),
                        "line__customer_id", first_id, last_id)
                .values_list("pk", "line__customer_id", "days_past_due",
                             "line__product__grace_days"))
    overdue = amounts_due_by([(pk, latest_due_date_overdue_on(next_day, grace))
                              for pk, _customer, _days, grace in late])
    worst = defaultdict(int)
    owed = defaultdict(lambda: ZERO)
    for pk, customer, days, grace in late:
        worst[customer] = max(worst[customer], days)
        owed[customer] += overdue.get((pk, latest_due_date_overdue_on(next_day, grace)), ZERO)
    written_off = _written_off_owed(set(worst) | open_customers)
    for customer, days, amount in written_off:
        worst[customer] = max(worst[customer], days)
        owed[customer] += amount
    gone = {customer for customer, _days, _amount in written_off}
    return {customer: (Bucket.WRITTEN_OFF if customer in gone else bucket_of(days),
                       days, owed[customer])
            for customer, days in worst.items()}


def _written_off_owed(customer_ids) -> list[tuple[int, int, Decimal]]:
    """(customer id, days past due at write-off, still owed) for each written-off loan of these
    customers on which something is still owed."""
    if not customer_ids:
        return []
    loans = list(WriteOff.objects.filter(field_in("loan__line__customer_id", customer_ids),
                                         loan__status=LoanStatus.WRITTEN_OFF)
                 .values_list("loan_id", "loan__line__customer_id", "days_past_due",
                              "principal", "interest_reversed", "penalty_reversed"))
    recovered = dict(Recovery.objects.filter(field_in("loan_id", [row[0] for row in loans]))
                     .values("loan_id").annotate(total=Sum("amount"))
                     .values_list("loan_id", "total")) if loans else {}
    rows = []
    for loan_id, customer, days, principal, interest, penalty in loans:
        left = write_off_owed(WriteOff(principal=principal, interest_reversed=interest,
                                       penalty_reversed=penalty),
                              recovered.get(loan_id) or ZERO)
        if left > 0:
            rows.append((customer, days, left))
    return rows


def cases_sync(*, day, first_id=None, last_id=None) -> int:
    """Open, update, close and assign the collection cases of the customers with ids from
    `first_id` to `last_id` for the close of `day`; returns how many cases changed. Joins the
    caller's transaction."""
    next_day = day + timedelta(days=1)
    cases = list(_within(CollectionCase.objects.select_for_update()
                         .filter(status=CaseStatus.OPEN), "customer_id", first_id, last_id)
                 .order_by("pk")
                 .values_list("pk", "customer_id", "bucket", "days_past_due", "amount_overdue",
                              "updated_on"))
    open_by_customer = {row[1]: row for row in cases}
    positions = _positions(day, first_id, last_id, set(open_by_customer))

    updates, closes = [], []
    for pk, customer, *figures, updated_on in cases:
        position = positions.get(customer)
        if position is None:
            closes.append((CaseStatus.CLOSED, next_day, next_day, pk))
        elif list(position) != figures or updated_on != next_day:
            updates.append((*position, next_day, pk))
    rows_update(CollectionCase, ["bucket", "days_past_due", "amount_overdue", "updated_on"],
                updates)
    rows_update(CollectionCase, ["status", "closed_on", "updated_on"], closes)
    new = sorted((customer, position) for customer, position in positions.items()
                 if customer not in open_by_customer)
    new_ids = rows_insert(
        CollectionCase,
        ["customer_id", "status", "bucket", "days_past_due", "amount_overdue", "opened_on",
         "updated_on"],
        [(customer, CaseStatus.OPEN, *position, next_day, next_day)
         for customer, position in new], ids=True)

    actor = actor_system(ACTOR_NAME)
    audit_events_append_many(
        [AuditDraft(actor=actor, action="collection_case.open", subject_kind="collection_case",
                    subject_id=pk, payload={"customer": customer, "bucket": bucket,
                                            "days_past_due": days, "amount_overdue": amount,
                                            "business_date": next_day})
         for pk, (customer, (bucket, days, amount)) in zip(new_ids, new, strict=True)]
        + [AuditDraft(actor=actor, action="collection_case.close",
                      subject_kind="collection_case", subject_id=pk,
                      payload={"reason": "Nothing is overdue any more.",
                               "business_date": next_day})
           for _status, _closed, _updated, pk in closes])
    assigned = cases_assign_round_robin(day=day, first_id=first_id, last_id=last_id)
    return len(updates) + len(closes) + len(new_ids) + assigned


def _collectors() -> list[int]:
    return list(User.objects.filter(groups__name=COLLECTOR, is_active=True)
                .order_by("pk").values_list("pk", flat=True))


def cases_assign_round_robin(*, day, first_id=None, last_id=None) -> int:
    """Assign the open, unassigned cases of the customers in the bounds, in case order, each to
    the collector with the fewest open cases in its bucket (ties: the lowest user id); returns
    how many were assigned. Nobody is assigned while the Collector group has no active
    member: the cases wait for the next night."""
    collectors = _collectors()
    waiting = list(_within(CollectionCase.objects.select_for_update()
                           .filter(status=CaseStatus.OPEN, assigned_to__isnull=True),
                           "customer_id", first_id, last_id)
                   .order_by("pk").values_list("pk", "bucket"))
    if not collectors or not waiting:
        return 0
    load = defaultdict(int)
    for collector, bucket, count in (CollectionCase.objects
                                     .filter(field_in("assigned_to_id", collectors),
                                             status=CaseStatus.OPEN)
                                     .values("assigned_to_id", "bucket")
                                     .annotate(count=Count("pk"))
                                     .values_list("assigned_to_id", "bucket", "count")):
        load[(collector, bucket)] = count
    next_day = day + timedelta(days=1)
    assignments = []
    for pk, bucket in waiting:
        collector = min(collectors, key=lambda user: (load[(user, bucket)], user))
        load[(collector, bucket)] += 1
        assignments.append((collector, next_day, pk))
    rows_update(CollectionCase, ["assigned_to_id", "assigned_on"], assignments)
    actor = actor_system(ACTOR_NAME)
    audit_events_append_many([
        AuditDraft(actor=actor, action="collection_case.assign", subject_kind="collection_case",
                   subject_id=pk, payload={"to": collector, "from": None,
                                           "reason": "Round robin within the bucket.",
                                           "business_date": assigned_on})
        for collector, assigned_on, pk in assignments])
    return len(assignments)


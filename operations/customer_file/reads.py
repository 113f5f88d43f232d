"""Everything the customer page shows, read in a fixed number of queries whatever the
customer's history: one query per section (and none for a section the reader may not view),
never one per line or loan.

Each section is read only if the reader holds its view permission; the page itself needs
`accounts.view_customerprofile` and `lending.view_loan` (`PAGE_PERMISSIONS`)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import CharField, F, Q, Window
from django.db.models.functions import Cast, RowNumber
from django.shortcuts import get_object_or_404

from accounts.masking import identity_visible, mask_tail
from accounts.models import Notice, User
from core.calendar import business_date_today
from core.models import ApprovalRequest
from debt_collection.models import (
    CollectionCase,
    CollectionContact,
    HardshipRequest,
    PromiseToPay,
)
from lending.models import (
    CreditLine,
    Instalment,
    InstalmentStatus,
    LimitChange,
    Loan,
    LoanExtension,
    LoanFunding,
    LoanStatus,
    RateChange,
)
from lending.rules.delinquency import amount_due_by, bucket_of
from risk.models import CreditDecision

PAGE_PERMISSIONS = ("accounts.view_customerprofile", "lending.view_loan")

# How many of the newest rows a section shows; the model's own admin list has the rest.
RECENT_CHANGES = 5
RECENT_ROWS = 20


@dataclass
class Profile:
    """Who the customer is, the identity number and phone masked unless the reader may see
    them (`accounts.masking`)."""

    user: User
    profile: object  # CustomerProfile, or None before the customer applied
    signals: object  # CustomerSignals, None if none or not for this reader
    id_number: str
    phone: str
    masked: bool


@dataclass(kw_only=True)
class _WithActions:
    """Filled in by the view: the object's admin page, the actions offered on it and the
    change list their forms post to."""

    change_url: str = ""
    offered: list = field(default_factory=list)
    changelist_url: str = ""


@dataclass
class LineView(_WithActions):
    line: CreditLine
    changes: list = field(default_factory=list)  # LimitChange and RateChange, newest first


@dataclass
class LoanView(_WithActions):
    loan: Loan
    bucket: str
    due_now: object  # Decimal: what is owed today for instalments due by today
    schedule: list = field(default_factory=list)  # the instalments in force
    # Each term extension with the schedule it replaced, as that stood: [(extension, rows)].
    superseded: list = field(default_factory=list)
    funders: list = field(default_factory=list)


@dataclass
class CaseView(_WithActions):
    case: CollectionCase
    contacts: list = field(default_factory=list)
    promises: list = field(default_factory=list)


@dataclass
class RequestView(_WithActions):
    """A hardship request or an approval request, with the officer actions on it."""

    request: object


@dataclass
class CustomerFile:
    profile: Profile
    lines: list | None  # None: the reader may not view this section
    loans: list
    decisions: list | None
    cases: list | None
    hardship_requests: list | None
    approvals: list | None
    notices: list | None
    business_date: object


def may_open(user) -> bool:
    return user.has_perms(PAGE_PERMISSIONS)


def customer_file_read(*, reader, customer_id) -> CustomerFile:
    """The page of customer `customer_id` as `reader` may see it (404 for no such user)."""
    customer = get_object_or_404(User.objects.select_related("profile", "signals"),
                                 pk=customer_id)
    today = business_date_today()
    can = reader.has_perm
    return CustomerFile(
        profile=_profile(reader, customer),
        lines=_lines(reader, customer) if can("lending.view_creditline") else None,
        loans=_loans(reader, customer, today),
        decisions=_decisions(customer) if can("risk.view_creditdecision") else None,
        cases=_cases(reader, customer) if can("debt_collection.view_collectioncase") else None,
        hardship_requests=(_hardship_requests(customer)
                           if can("debt_collection.view_hardshiprequest") else None),
        approvals=_approvals(customer) if can("core.view_approvalrequest") else None,
        notices=(list(Notice.objects.filter(customer=customer)
                      .order_by("-business_date", "-pk")[:RECENT_ROWS])
                 if can("accounts.view_notice") else None),
        business_date=today,
    )


def _profile(reader, customer) -> Profile:
    profile = getattr(customer, "profile", None)
    signals = None
    if reader.has_perm("accounts.view_customersignals"):
        signals = getattr(customer, "signals", None)
    visible = identity_visible(reader)
    id_number = profile.id_number if profile else ""
    return Profile(user=customer, profile=profile, signals=signals,
                   id_number=id_number if visible else mask_tail(id_number),
                   phone=customer.phone if visible else mask_tail(customer.phone),
                   masked=not visible)


def _newest_per_line(queryset, count):
    """The newest `count` rows per line of `queryset`, in one query (a window per line)."""
    return (queryset.annotate(nth=Window(RowNumber(), partition_by=F("line_id"),
                                         order_by=F("pk").desc()))
            .filter(nth__lte=count).order_by("line_id", "-pk"))


def _lines(reader, customer) -> list[LineView]:
    views = {line.pk: LineView(line) for line in CreditLine.objects.filter(customer=customer)
             .select_related("product").order_by("pk")}
    changes = defaultdict(list)
    if reader.has_perm("lending.view_limitchange"):
        for change in _newest_per_line(LimitChange.objects.filter(line__customer=customer)
                                       .select_related("officer"), RECENT_CHANGES):
            changes[change.line_id].append(change)
    if reader.has_perm("lending.view_ratechange"):
        for change in _newest_per_line(RateChange.objects.filter(line__customer=customer),
                                       RECENT_CHANGES):
            changes[change.line_id].append(change)
    for line_id, found in changes.items():
        views[line_id].changes = sorted(found, key=lambda c: c.created_at,
                                        reverse=True)[:RECENT_CHANGES]
    return list(views.values())


def _loans(reader, customer, today) -> list[LoanView]:
    loans = list(Loan.objects.filter(line__customer=customer).select_related("line__product")
                 .order_by("-pk"))
    if not loans:
        return []
    instalments = defaultdict(list)
    if reader.has_perm("lending.view_instalment"):
        for row in Instalment.objects.filter(loan__line__customer=customer).order_by("seq"):
            instalments[row.loan_id].append(row)
    extensions = defaultdict(list)
    if reader.has_perm("lending.view_loanextension"):
        for extension in (LoanExtension.objects.filter(loan__line__customer=customer)
                          .select_related("officer").order_by("pk")):
            extensions[extension.loan_id].append(extension)
    funders = defaultdict(list)
    if reader.has_perm("lending.view_loanfunding"):
        for funding in (LoanFunding.objects.filter(loan__line__customer=customer)
                        .select_related("partner_bank").order_by("pk")):
            funders[funding.loan_id].append(funding)
    return [_loan_view(loan, instalments[loan.pk], extensions[loan.pk], funders[loan.pk], today)
            for loan in loans]


def _loan_view(loan, rows, extensions, funders, today) -> LoanView:
    in_force = [row for row in rows if row.status != InstalmentStatus.SUPERSEDED]
    if loan.status == LoanStatus.WRITTEN_OFF:
        bucket = "written off"
    elif loan.status == LoanStatus.PAID_OFF:
        bucket = "paid off"
    else:
        bucket = bucket_of(loan.days_past_due)
    return LoanView(loan=loan, bucket=bucket,
                    due_now=amount_due_by(in_force, today) if rows else None,
                    schedule=in_force, funders=funders,
                    superseded=[(extension, [ReplacedRow.of(row) for row in
                                             extension.old_schedule])
                                for extension in extensions])


@dataclass(frozen=True)
class ReplacedRow:
    """An instalment as it stood when a term extension replaced it (from the extension's
    `old_schedule`), with the names the schedule table reads from an `Instalment`."""

    seq: int
    due_date: date
    status: str
    principal_due: Decimal
    interest_due: Decimal
    fee_due: Decimal
    penalty_due: Decimal
    total_paid: Decimal
    paid_on: None = None

    @classmethod
    def of(cls, stored: dict) -> "ReplacedRow":
        paid = sum((Decimal(stored[name]) for name in ("principal_paid", "interest_paid",
                                                       "fee_paid", "penalty_paid")),
                   Decimal("0.00"))
        return cls(seq=stored["seq"], due_date=date.fromisoformat(stored["due_date"]),
                   status=stored["status"], total_paid=paid,
                   **{name: Decimal(stored[name]) for name in (
                       "principal_due", "interest_due", "fee_due", "penalty_due")})

    def get_status_display(self):
        return InstalmentStatus(self.status).label


def _decisions(customer) -> list:
    return list(CreditDecision.objects.filter(customer=customer)
                .select_related("product", "model_version").order_by("-created_at")
                [:RECENT_ROWS])


def _cases(reader, customer) -> list[CaseView]:
    views = {case.pk: CaseView(case) for case in CollectionCase.objects.filter(customer=customer)
             .select_related("assigned_to").order_by("-opened_on", "-pk")}
    if not views:
        return []
    if reader.has_perm("debt_collection.view_collectioncontact"):
        for contact in (CollectionContact.objects.filter(case__customer=customer)
                        .select_related("collector").order_by("-created_at", "-pk")
                        [:RECENT_ROWS]):
            views[contact.case_id].contacts.append(contact)
    if reader.has_perm("debt_collection.view_promisetopay"):
        for promise in (PromiseToPay.objects.filter(case__customer=customer)
                        .select_related("made_by").order_by("-made_on", "-pk")[:RECENT_ROWS]):
            views[promise.case_id].promises.append(promise)
    return list(views.values())


def _hardship_requests(customer) -> list[RequestView]:
    return [RequestView(request) for request in HardshipRequest.objects
            .filter(customer=customer).select_related("decided_by")
            .order_by("-created_at")[:RECENT_ROWS]]


def _approvals(customer) -> list[RequestView]:
    """Requests awaiting (or given) a second officer's approval on the customer's lines and
    loans, newest first."""
    lines = CreditLine.objects.filter(customer=customer).values("pk")
    loans = Loan.objects.filter(line__customer=customer).values("pk")
    return [RequestView(request) for request in ApprovalRequest.objects
            .filter(Q(subject_kind="line", subject_id__in=_as_text(lines))
                    | Q(subject_kind="loan", subject_id__in=_as_text(loans)))
            .select_related("maker", "checker").order_by("-created_at")[:RECENT_ROWS]]


def _as_text(ids):
    """A subquery of ids as the text an approval's `subject_id` holds."""
    return ids.annotate(text=Cast("pk", CharField())).values("text")

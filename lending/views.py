"""Customer pages: the dashboard, borrowing (quote, then confirm) and a loan with its repayments.

Reads go through `lending.selectors`, every change through `lending.services`; a service's
refusal (a `DomainError`) is shown on the form that asked for it."""

import uuid
from decimal import Decimal
from itertools import count
from types import SimpleNamespace

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import CustomerProfile
from core.calendar import business_date_today
from core.errors import DomainError, InvalidAmount
from core.idempotency import scope_of_user
from core.money_format import money_text

from .errors import InsufficientCredit, Overpayment, customer_message
from .forms import BorrowForm, ConfirmBorrowForm, RepayForm
from .models import CreditLineStatus, InstalmentStatus, LoanStatus, ProductKind
from .rules.delinquency import amount_due_by
from .rules.schedule import quote_loan
from .selectors import (
    instalments_of,
    line_changes_recent,
    lines_for_customer,
    loans_for_customer,
)
from .services import loan_originate, loan_payoff_amount, loan_repay
from .services.origination import loan_quote_for_line

AMOUNT_ERRORS = (InvalidAmount, InsufficientCredit, Overpayment)
ZERO = Decimal("0.00")


def render_page(request, template, context):
    return render(request, template, {"currency": settings.CURRENCY, **context})


def customer_scope(user):
    return scope_of_user(user.pk)


def new_idempotency_key():
    return uuid.uuid4().hex


def add_lending_error(form, error):
    """A service's refusal on the form: amount problems by the amount field, the rest on top."""
    form.add_error("amount" if isinstance(error, AMOUNT_ERRORS) else None,
                   customer_message(error))


def daily_rate_percent(rate):
    return rate * 100


def line_apr_range(line, today):
    """The lowest and highest APR a draw on this line would carry today.

    The APR moves a little with term and method (interest runs on actual days), so one figure
    would be wrong for some draws. Quoted on the product's largest amount, where rounding to the
    cent moves the APR least. None when the product offers no term to quote."""
    product = line.product
    aprs = []
    for term in product.allowed_terms:
        for method in product.repayment_methods:
            try:
                quote = quote_loan(principal=product.max_amount, term_months=term,
                                   daily_rate=line.daily_rate, method=method, start=today)
            except DomainError:
                continue  # a term or method the schedule cannot quote is not one to advertise
            aprs.append(quote.apr)
    return (min(aprs), max(aprs)) if aprs else None


def cash_lines(user):
    return lines_for_customer(user).filter(product__kind=ProductKind.CASH_LOAN)


def borrowable_lines(user):
    return cash_lines(user).filter(status=CreditLineStatus.ACTIVE)


@login_required
@require_GET
def dashboard(request):
    today = business_date_today()
    lines = [{"line": line, "apr_range": line_apr_range(line, today),
              "daily_rate_percent": daily_rate_percent(line.daily_rate),
              "changes": line_changes_recent(line)}
             for line in lines_for_customer(request.user)]
    return render_page(request, "lending/dashboard.html", {
        "lines": lines,
        "loans": loans_for_customer(request.user),
        "has_profile": CustomerProfile.objects.filter(user=request.user).exists(),
        "can_borrow": borrowable_lines(request.user).exists(),
    })


def quote_for(form):
    """The quote for a valid step-1 form, or None with the refusal added to the form."""
    data = form.cleaned_data
    try:
        return loan_quote_for_line(line=data["line"], principal=data["amount"],
                                   term_months=data["term_months"], method=data["method"])
    except DomainError as error:
        add_lending_error(form, error)
        return None


@login_required
@require_http_methods(["GET", "POST"])
def borrow(request):
    lines = borrowable_lines(request.user)
    if not lines.exists():
        return render_page(request, "lending/borrow.html", {"form": None})
    form = BorrowForm(request.POST if request.method == "POST" else None, lines=lines)
    if request.method == "POST" and form.is_valid() and (quote := quote_for(form)):
        line = form.cleaned_data["line"]
        confirm = ConfirmBorrowForm(lines=lines, initial={
            "line": line.pk, "amount": quote.principal, "term_months": quote.term_months,
            "method": quote.method, "quoted_on": quote.start,
            # Made once, when the confirmation is shown: a double-click or a refresh of the
            # confirm request replays this key and books one loan.
            "idempotency_key": new_idempotency_key(),
        })
        return render_page(request, "lending/borrow_quote.html", {
            "quote": quote, "line": line, "confirm": confirm,
            "method_label": dict(form.fields["method"].choices)[quote.method],
            "daily_rate_percent": daily_rate_percent(quote.daily_rate),
        })
    return render_page(request, "lending/borrow.html", {"form": form})


@login_required
@require_POST
def borrow_confirm(request):
    # Any of the customer's cash lines: one frozen since the quote is refused by origination,
    # which first recognises a resubmission of a confirmation that already made its loan.
    confirm = ConfirmBorrowForm(request.POST, lines=cash_lines(request.user))
    refusal = None
    if not confirm.is_valid():
        refusal = _("This confirmation is incomplete or out of date: check the terms and get a "
                    "new quote.")
    else:
        data = confirm.cleaned_data
        try:
            loan = loan_originate(line_id=data["line"].pk, principal=data["amount"],
                                  term_months=data["term_months"], method=data["method"],
                                  idempotency_key=data["idempotency_key"],
                                  scope=customer_scope(request.user),
                                  quoted_on=data["quoted_on"])
        except DomainError as error:
            refusal = error
        else:
            messages.success(request, _("Your loan of %(amount)s is on its way.")
                             % {"amount": money_text(loan.principal)})
            return redirect("loan", pk=loan.pk)
    # Back to step 1 with the chosen terms and why they were refused. Where step 1's own checks
    # already object to them, those messages say it; the service's would repeat them.
    lines = borrowable_lines(request.user)
    if not lines.exists():
        if isinstance(refusal, DomainError):
            refusal = customer_message(refusal)
        return render_page(request, "lending/borrow.html", {"form": None, "refusal": refusal})
    form = BorrowForm(request.POST, lines=lines)
    if not isinstance(refusal, DomainError):
        form.is_valid()
        form.add_error(None, refusal)
    elif form.is_valid():
        add_lending_error(form, refusal)
    return render_page(request, "lending/borrow.html", {"form": form})


def customer_loan_or_404(user, pk):
    """The customer's own loan; another customer's loan does not exist for them."""
    return get_object_or_404(loans_for_customer(user), pk=pk)


def render_loan_page(request, loan, repay_form=None):
    today = business_date_today()
    # The live schedule: rows a term extension superseded are history (the admin shows them).
    instalments = [i for i in instalments_of(loan) if i.status != InstalmentStatus.SUPERSEDED]
    _number(instalments)
    unpaid = [i for i in instalments if i.status != InstalmentStatus.PAID]
    due_now = amount_due_by(instalments, today)
    next_due = _next_due(unpaid, today)
    context = {
        "loan": loan, "instalments": instalments, "today": today, "due_now": due_now,
        "extensions": list(loan.extensions.order_by("pk")),
        "next_due": next_due, "repayments": loan.repayments.order_by("-paid_on", "-pk"),
        "daily_rate_percent": daily_rate_percent(loan.daily_rate),
        "is_active": loan.status == LoanStatus.ACTIVE,
        "repay_form": repay_form,
    }
    if loan.status == LoanStatus.ACTIVE:
        payoff = loan_payoff_amount(loan)
        suggested = min(due_now or (next_due.remaining if next_due else payoff), payoff)
        context.update({
            "payoff": payoff,
            # Hidden fields only, without ids: the repay form above already uses those ids.
            "payoff_form": RepayForm(auto_id=False, initial={
                "amount": payoff, "idempotency_key": new_idempotency_key()}),
            "repay_form": repay_form or RepayForm(initial={
                "amount": suggested, "idempotency_key": new_idempotency_key()}),
        })
    return render_page(request, "lending/loan_detail.html", context)


def _number(instalments):
    """Number the rows shown 1, 2, 3...: their `seq` goes on after the rows an extension
    superseded, which the page hides. The carried row (what the extension carried over) is no
    instalment of its own and gets no number."""
    numbers = count(1)
    for instalment in instalments:
        instalment.number = None if instalment.carried else next(numbers)


def _next_due(unpaid, today):
    """The next due date and all that falls due on it: after a term extension the carried row
    (interest and penalty carried over) falls due with the first new instalment."""
    later = [i for i in unpaid if i.due_date > today]
    if not later:
        return None
    day = min(i.due_date for i in later)
    return SimpleNamespace(due_date=day,
                           remaining=sum(i.remaining for i in later if i.due_date == day))


@login_required
@require_GET
def loan_detail(request, pk):
    return render_loan_page(request, customer_loan_or_404(request.user, pk))


@login_required
@require_POST
def repay(request, pk):
    loan = customer_loan_or_404(request.user, pk)
    form = RepayForm(request.POST)
    if form.is_valid():
        try:
            repayment = loan_repay(loan_id=loan.pk, amount=form.cleaned_data["amount"],
                                   idempotency_key=form.cleaned_data["idempotency_key"],
                                   scope=customer_scope(request.user))
        except DomainError as error:
            add_lending_error(form, error)
        else:
            messages.success(request, _("Thank you: your payment of %(amount)s is booked.")
                             % {"amount": money_text(repayment.amount)})
            return redirect("loan", pk=loan.pk)
    return render_loan_page(request, loan, repay_form=form)


"""Customer pages of the pay-later line (花呗): its home, statements (账单), purchases, instalment
plans (分期), payments (还款), conversions, early settlement (提前还款) and the credit balance.

Reads go through `lending.selectors_pay_later`, every change through `lending.services`; a
service's refusal is shown on the form that asked for it. Every object is looked up under the
customer's own line, so another customer's statement, purchase or plan is a 404."""

from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.calendar import business_date_today
from core.errors import DomainError
from core.money_format import money_text

from .errors import customer_message
from .forms_pay_later import ConfirmPlanForm, KeyedConfirmForm, PayForm, TermForm
from .models import InstalmentPlan, PlanStatus, Purchase, Statement, StatementStatus
from .rules.statements import statement_date_for
from .selectors_pay_later import (
    line_summary,
    minimum_left,
    pay_later_line_for,
    plan_parts_of,
    plan_settlements_of,
    plans_of,
    purchases_of,
    refunds_of,
    statement_amounts,
    statement_items,
    statement_next,
    statements_of,
)
from .services import (
    credit_balance_pay_back,
    line_pay,
    plan_quote_fingerprint,
    plan_quote_for_purchase,
    plan_quote_for_statement,
    plan_settle_early,
    purchase_convert,
    statement_convert,
)
from .views import customer_scope, new_idempotency_key, render_page


def percent_text(rate: Decimal) -> str:
    """0.025 -> "2.5", 0.1 -> "10": a rate in percent with the decimals it has."""
    return format((rate * 100).quantize(Decimal("0.01")).normalize(), "f")


def statement_state(statement, today) -> str:
    """How the customer reads a statement's standing: paid (in full), rolled (carried to the
    next statement), overdue (less than the minimum paid in time), revolving (the minimum paid
    but not all by the due date: revolving interest runs) or open (not yet due)."""
    if statement.status == StatementStatus.PAID:
        return "paid"
    if statement.status == StatementStatus.ROLLED:
        return "rolled"
    if statement.days_past_due:
        return "overdue"
    return "revolving" if today > statement.due_date else "open"


def offered_terms(product):
    """The plan terms the product offers, shortest first, as (months, fee rate in percent)."""
    return [
        (int(months), percent_text(Decimal(rate)))
        for months, rate in sorted(product.plan_fee_rates.items(), key=lambda item: int(item[0]))
    ]


def customer_line(request):
    return pay_later_line_for(request.user)


def render_no_line(request):
    """Staff and customers without a pay-later line get a plain page, not an error."""
    return render_page(request, "lending/pay_later/no_line.html", {})


def with_pay_later_line(view):
    """The view gets the customer's pay-later line; without one, the plain page instead."""

    @wraps(view)
    def with_line(request, *args, **kwargs):
        line = customer_line(request)
        if line is None:
            return render_no_line(request)
        return view(request, line, *args, **kwargs)

    return with_line


def owned(queryset, line, pk):
    """The row of the customer's own line; any other does not exist for them."""
    if line is None:
        raise Http404
    return get_object_or_404(queryset.filter(line=line), pk=pk)


# The home


def render_home(request, line, payback_error=None):
    today = business_date_today()
    summary = line_summary(line, today)
    statement = summary.statement
    return render_page(
        request,
        "lending/pay_later/home.html",
        {
            "line": line,
            "summary": summary,
            "today": today,
            "state": statement_state(statement, today) if statement else None,
            "payback_error": payback_error,
        },
    )


@login_required
@require_GET
@with_pay_later_line
def home(request, line):
    return render_home(request, line)


@login_required
@require_POST
@with_pay_later_line
def credit_balance_refund(request, line):
    try:
        refund = credit_balance_pay_back(line=line, requested_by=request.user)
    except DomainError as error:
        line.refresh_from_db()
        return render_home(request, line, payback_error=customer_message(error))
    messages.success(
        request,
        _("%(amount)s of your credit balance is on its way back to you.")
        % {"amount": money_text(refund.amount)},
    )
    return redirect("pay_later_home")


# Statements


@login_required
@require_GET
@with_pay_later_line
def statement_list(request, line):
    today = business_date_today()
    statements = list(statements_of(line))
    for statement in statements:
        statement.state = statement_state(statement, today)
    return render_page(
        request,
        "lending/pay_later/statements.html",
        {"line": line, "statements": statements, "today": today},
    )


@login_required
@require_GET
def statement_detail(request, pk):
    line = customer_line(request)
    statement = owned(Statement.objects.all(), line, pk)
    today = business_date_today()
    state = statement_state(statement, today)
    return render_page(
        request,
        "lending/pay_later/statement.html",
        {
            "line": line,
            "statement": statement,
            "state": state,
            "today": today,
            "amounts": statement_amounts(statement),
            "items": statement_items(statement),
            "minimum_left": minimum_left(statement),
            "next_statement": statement_next(statement) if state == "rolled" else None,
            "can_pay": statement.status == StatementStatus.OPEN,
            "can_convert": state == "open" and statement.purchases_due > statement.purchases_paid,
        },
    )


# Paying


def pay_form_for(line, data=None):
    summary = line_summary(line, business_date_today())
    statement_balance = summary.statement.balance if summary.statement else Decimal("0.00")
    form = PayForm(
        data,
        full=statement_balance or summary.owed,
        full_is_statement=bool(statement_balance),
        minimum=summary.minimum_left,
        initial={"idempotency_key": new_idempotency_key()},
    )
    return summary, form


def render_pay(request, line, summary, form):
    return render_page(
        request, "lending/pay_later/pay.html", {"line": line, "summary": summary, "form": form}
    )


@login_required
@require_http_methods(["GET", "POST"])
@with_pay_later_line
def pay(request, line):
    summary, form = pay_form_for(line, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            payment = line_pay(
                line=line,
                amount=form.cleaned_data["pay_amount"],
                scope=customer_scope(request.user),
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except DomainError as error:
            field = "amount" if form.cleaned_data["choice"] == "other" else None
            form.add_error(field, customer_message(error))
        else:
            messages.success(
                request,
                _("Thank you: your payment of %(amount)s is booked.")
                % {"amount": money_text(payment.amount)},
            )
            return redirect("pay_later_home")
    return render_pay(request, line, summary, form)


# Converting into instalments (分期)


def render_terms(request, line, source, form):
    return render_page(
        request,
        "lending/pay_later/convert_terms.html",
        {"line": line, "source": source, "form": form},
    )


def render_preview(request, line, source, quote, refusal=None):
    confirm = ConfirmPlanForm(
        initial={"term_months": quote.term_months, "shown": plan_quote_fingerprint(quote)}
    )
    today = business_date_today()
    return render_page(
        request,
        "lending/pay_later/convert_preview.html",
        {
            "line": line,
            "source": source,
            "quote": quote,
            "confirm": confirm,
            "refusal": refusal,
            "total": quote.principal + quote.fee_total,
            "fee_rate_percent": percent_text(quote.fee_rate),
            # Parts fall on the statements after the conversion: the first is the next cut.
            "first_statement_date": statement_date_for(today, line.statement_day or 1),
        },
    )


class ConvertSource:
    """A statement (账单分期) or a purchase (交易分期) to convert, and the services for it."""

    def __init__(self, kind, obj):
        self.kind, self.obj = kind, obj
        self.back_url = reverse(f"pay_later_{kind}", args=[obj.pk])
        self.convert_url = reverse(f"pay_later_{kind}_convert", args=[obj.pk])
        self.confirm_url = reverse(f"pay_later_{kind}_convert_confirm", args=[obj.pk])

    def quote(self, term_months):
        if self.kind == "statement":
            return plan_quote_for_statement(statement=self.obj, term_months=term_months)
        return plan_quote_for_purchase(purchase=self.obj, term_months=term_months)

    def convert(self, term_months, shown):
        if self.kind == "statement":
            return statement_convert(statement=self.obj, term_months=term_months, shown=shown)
        return purchase_convert(purchase=self.obj, term_months=term_months, shown=shown)


def convert_source(request, kind, pk):
    """The customer's own statement or purchase to convert: (line, ConvertSource)."""
    line = customer_line(request)
    if kind == "statement":
        return line, ConvertSource(kind, owned(Statement.objects.all(), line, pk))
    return line, ConvertSource(kind, owned(Purchase.objects.select_related("merchant"), line, pk))


@login_required
@require_GET
def convert(request, kind, pk):
    """Step 1, the term; with a term chosen (?term_months=6), step 2: the preview."""
    line, source = convert_source(request, kind, pk)
    form = TermForm(request.GET or None, terms=offered_terms(line.product))
    if form.is_bound and form.is_valid():
        try:
            quote = source.quote(form.cleaned_data["term_months"])
        except DomainError as error:
            form.add_error(None, customer_message(error))
        else:
            return render_preview(request, line, source, quote)
    return render_terms(request, line, source, form)


@login_required
@require_POST
def convert_confirm(request, kind, pk):
    line, source = convert_source(request, kind, pk)
    confirm = ConfirmPlanForm(request.POST)
    if not confirm.is_valid():
        form = TermForm(terms=offered_terms(line.product))
        form.add_error(None, _("This confirmation is incomplete: choose the term again."))
        return render_terms(request, line, source, form)
    term = confirm.cleaned_data["term_months"]
    try:
        plan = source.convert(term, confirm.cleaned_data["shown"])
    except DomainError as error:
        refusal = customer_message(error)
    else:
        messages.success(
            request,
            _("Done: %(amount)s is now in %(months)s monthly parts.")
            % {"amount": money_text(plan.principal), "months": plan.term_months},
        )
        return redirect("pay_later_plan", pk=plan.pk)
    # Refused: most often the figures moved since the preview (a payment, a refund, a new
    # business day). Show the quote as it stands now beside the reason, to confirm again.
    source.obj.refresh_from_db()
    if kind == "purchase" and source.obj.plan_id:
        return redirect("pay_later_plan", pk=source.obj.plan_id)
    try:
        quote = source.quote(term)
    except DomainError as error:
        form = TermForm(terms=offered_terms(line.product))
        form.add_error(None, customer_message(error))
        return render_terms(request, line, source, form)
    return render_preview(request, line, source, quote, refusal=refusal)


# Purchases


def purchase_convertible(purchase, product, today) -> bool:
    """Offer 交易分期 on a purchase of at least the product's smallest plan amount, not in a plan,
    not yet billed or billed on the open statement not yet due (the service decides for sure)."""
    left = purchase.amount - purchase.refunded - purchase.paid_before_billing
    if purchase.plan_id or left < product.plan_min_amount:
        return False
    statement = purchase.statement
    return statement is None or (
        statement.status == StatementStatus.OPEN
        and today <= statement.due_date
        and statement.overdue_since is None
    )


@login_required
@require_GET
@with_pay_later_line
def purchase_list(request, line):
    today = business_date_today()
    purchases = list(purchases_of(line))
    for purchase in purchases:
        purchase.convertible = purchase_convertible(purchase, line.product, today)
    return render_page(
        request, "lending/pay_later/purchases.html", {"line": line, "purchases": purchases}
    )


@login_required
@require_GET
def purchase_detail(request, pk):
    line = customer_line(request)
    purchase = owned(Purchase.objects.select_related("merchant", "statement", "plan"), line, pk)
    return render_page(
        request,
        "lending/pay_later/purchase.html",
        {
            "line": line,
            "purchase": purchase,
            "refunds": list(refunds_of(purchase)),
            "convertible": purchase_convertible(purchase, line.product, business_date_today()),
        },
    )


# Instalment plans


@login_required
@require_GET
@with_pay_later_line
def plan_list(request, line):
    return render_page(
        request, "lending/pay_later/plans.html", {"line": line, "plans": list(plans_of(line))}
    )


def render_plan(request, line, plan, settle_form=None):
    return render_page(
        request,
        "lending/pay_later/plan.html",
        {
            "line": line,
            "plan": plan,
            "parts": list(plan_parts_of(plan)),
            "settlements": list(plan_settlements_of(plan)),
            "fee_rate_percent": percent_text(plan.fee_rate),
            "is_active": plan.status == PlanStatus.ACTIVE,
            "settle_form": settle_form,
        },
    )


def owned_plan(request, pk):
    line = customer_line(request)
    return line, owned(plans_of(line) if line else InstalmentPlan.objects.none(), line, pk)


@login_required
@require_GET
def plan_detail(request, pk):
    line, plan = owned_plan(request, pk)
    return render_plan(request, line, plan)


@login_required
@require_http_methods(["GET", "POST"])
def plan_settle(request, pk):
    """提前还款: the remaining principal today, the unbilled parts' fees waived."""
    line, plan = owned_plan(request, pk)
    if plan.status != PlanStatus.ACTIVE and request.method == "GET":
        return redirect("pay_later_plan", pk=plan.pk)
    form = KeyedConfirmForm(
        request.POST if request.method == "POST" else None,
        initial={"idempotency_key": new_idempotency_key()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            payment = plan_settle_early(
                plan=plan,
                scope=customer_scope(request.user),
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except DomainError as error:
            form.add_error(None, customer_message(error))
        else:
            messages.success(
                request,
                _("Plan settled: you paid %(amount)s and no further fees are due on it.")
                % {"amount": money_text(payment.amount)},
            )
            return redirect("pay_later_plan", pk=plan.pk)
    return render_page(
        request, "lending/pay_later/plan_settle.html", {"line": line, "plan": plan, "form": form}
    )

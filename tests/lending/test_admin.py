"""The back office: every model shown, booked rows untouchable, and the officer's 降额 action."""

from datetime import date
from decimal import Decimal

import pytest
from django import forms
from django.contrib import admin
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from oauth2_provider.models import Application

from accounts.models import CustomerProfile, PartnerApiClient, PartnerBank, User
from accounts.roles import COLLECTOR, RISK_MANAGER, RISK_OFFICER
from accounts.services import staff_user_create
from core.audit import audit_trail_of
from core.models import BusinessDate, IdempotencyRecord
from lending.models import (
    CreditLine,
    CreditProduct,
    Instalment,
    JournalEntry,
    LedgerAccount,
    LimitChange,
    Loan,
    LoanExtension,
    LoanFunding,
    PenaltyWaiver,
    Posting,
    Repayment,
)
from lending.services import line_limit_lower, loan_originate, loan_repay
from operations.models import CloseStep
from operations.nightly_close import business_days_advance
from tests.factories import ProfileFactory, UserFactory, set_business_date

pytestmark = pytest.mark.django_db

D = Decimal
START = date(2026, 1, 31)

REGISTERED = [
    User, CustomerProfile, PartnerBank, PartnerApiClient, CreditProduct, CreditLine, LimitChange,
    Loan, LoanFunding, Instalment, Repayment, BusinessDate, CloseStep, IdempotencyRecord,
    LedgerAccount, JournalEntry, Posting,
]
VIEW_ONLY = [
    CustomerProfile, CreditLine, LimitChange, Loan, LoanFunding, Instalment, Repayment,
    BusinessDate, CloseStep, IdempotencyRecord, LedgerAccount, JournalEntry, Posting,
]


def label(model):
    return model._meta.label


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture(autouse=True)
def business_day(reference_data):
    set_business_date(START)


@pytest.fixture
def loan(line):
    return loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key="loan", scope="test")


@pytest.fixture
def world(line, bank, loan, admin_user):
    """At least one row of every registered model, made the way the product makes them."""
    ProfileFactory(user=line.customer)
    business_days_advance(days=1)
    loan_repay(loan_id=loan.pk, amount="1000", idempotency_key="repay", scope="test")
    line_limit_lower(line_id=line.pk, new_limit="45000", reason="Income fell", officer=admin_user)
    application = Application.objects.create(
        name="Bank A loan tape", client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS)
    PartnerApiClient.objects.create(partner_bank=bank, application=application)


def staff_client(role):
    user = staff_user_create(username=role.lower().replace(" ", "-"), password="x", role=role)
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def officer_client():
    return staff_client(RISK_OFFICER)


@pytest.fixture
def collector_client():
    return staff_client(COLLECTOR)[0]


def form_data(response):
    """What the change form on the page would post back unchanged."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    return data


def actions_on(changelist):
    """The actions offered on a changelist page (none at all: no action form)."""
    action_form = changelist.context["action_form"]
    return dict(action_form.fields["action"].choices) if action_form else {}


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# Every model ------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", REGISTERED, ids=label)
def test_changelist_and_change_page_render(admin_client, world, model):
    assert admin.site.is_registered(model)
    obj = model._default_manager.order_by("pk").first()
    changelist = admin_client.get(admin_url(model, "changelist"))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count >= 1
    change = admin_client.get(admin_url(model, "change", obj.pk))
    assert change.status_code == 200
    assert change.context["original"] == obj


@pytest.mark.parametrize("model", REGISTERED, ids=label)
@pytest.mark.parametrize("term", ["bank", "12", "99999999999999999999999", "²", "'"])
def test_searching_never_fails(admin_client, model, term):
    """Numbers beyond any id, words where ids are expected: the page answers, it does not 500."""
    assert admin_client.get(admin_url(model, "changelist"), {"q": term}).status_code == 200


def test_a_loan_is_found_by_its_number_in_its_own_and_related_tables(admin_client, world, loan):
    for model in (Loan, Instalment, Repayment, LoanFunding, JournalEntry, Posting):
        cl = admin_client.get(admin_url(model, "changelist"), {"q": str(loan.pk)}).context["cl"]
        assert cl.result_count >= 1, model
        rows = list(cl.result_list)
        assert all(getattr(row, "loan_id", row.pk) == loan.pk for row in rows), model


def test_loans_and_lines_are_found_by_the_customers_phone_or_their_number(admin_client, line,
                                                                         loan):
    User.objects.filter(pk=line.customer_id).update(phone="13800138000")
    for model, obj in ((Loan, loan), (CreditLine, line)):
        url = admin_url(model, "changelist")
        for term in ("13800138000", str(obj.pk)):
            assert list(admin_client.get(url, {"q": term}).context["cl"].result_list) == [obj]
        assert list(admin_client.get(url, {"q": "13900000000"}).context["cl"].result_list) == []


def test_loans_filter_by_days_past_due_bucket(admin_client, loan):
    Loan.objects.filter(pk=loan.pk).update(days_past_due=45,
                                           overdue_since=loan.disbursed_on)
    url = admin_url(Loan, "changelist")
    assert list(admin_client.get(url, {"dpd": "m2"}).context["cl"].result_list) == [loan]
    assert list(admin_client.get(url, {"dpd": "0"}).context["cl"].result_list) == []


def test_a_loan_page_shows_its_instalments_fundings_and_repayments(admin_client, world, loan):
    page = admin_client.get(admin_url(Loan, "change", loan.pk))
    inlines = {formset.opts.model: len(formset.formset.queryset)
               for formset in page.context["inline_admin_formsets"]}
    assert inlines == {Instalment: 12, LoanFunding: 2, Repayment: 1, LoanExtension: 0,
                       PenaltyWaiver: 0}


def test_a_journal_entry_page_shows_its_postings(admin_client, world, loan):
    entry = JournalEntry.objects.filter(loan=loan).order_by("pk").first()
    page = admin_client.get(admin_url(JournalEntry, "change", entry.pk))
    [postings] = page.context["inline_admin_formsets"]
    assert list(postings.formset.queryset.order_by("pk")) == list(entry.postings.order_by("pk"))


# Read-only rows and fields ---------------------------------------------------------------------

@pytest.mark.parametrize("model", VIEW_ONLY, ids=label)
def test_view_only_models_cannot_be_added_changed_or_deleted(admin_client, world, model):
    obj = model._default_manager.order_by("pk").first()
    page = admin_client.get(admin_url(model, "change", obj.pk))
    assert not page.context["has_change_permission"]
    assert not page.context["has_delete_permission"]
    assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert admin_client.post(admin_url(model, "add"), {}).status_code == 403
    assert admin_client.post(admin_url(model, "change", obj.pk), {}).status_code == 403
    assert admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert "delete_selected" not in actions_on(admin_client.get(admin_url(model, "changelist")))


def test_posting_to_a_loan_changes_nothing(admin_client, loan):
    response = admin_client.post(admin_url(Loan, "change", loan.pk),
                                 {"principal": "1", "outstanding_principal": "0",
                                  "status": "paid_off", "days_past_due": "0"})
    assert response.status_code == 403
    loan.refresh_from_db()
    assert (loan.principal, loan.outstanding_principal, loan.status) == (
        D("10000.00"), D("10000.00"), "active")


@pytest.mark.parametrize("model", [JournalEntry, Posting], ids=label)
def test_ledger_rows_cannot_be_deleted_in_bulk_either(admin_client, loan, model):
    before = model.objects.count()
    response = admin_client.post(admin_url(model, "changelist"), {
        "action": "delete_selected", "index": 0, "post": "yes",
        "_selected_action": list(model.objects.values_list("pk", flat=True))})
    # No action is offered at all, so the post just shows the list again.
    assert response.status_code == 200
    assert actions_on(response) == {}
    assert model.objects.count() == before


def test_limit_and_balance_of_a_line_cannot_be_posted_to(admin_client, line):
    response = admin_client.post(admin_url(CreditLine, "change", line.pk),
                                 {"credit_limit": "999999", "outstanding_principal": "0",
                                  "status": "closed"})
    assert response.status_code == 403
    line.refresh_from_db()
    assert (line.credit_limit, line.status) == (D("50000.00"), "active")


def test_a_superuser_edits_a_product_but_not_its_code_kind_or_amounts(admin_client, line):
    product = line.product
    url = admin_url(CreditProduct, "change", product.pk)
    data = form_data(admin_client.get(url))
    assert {"code", "kind", "min_amount", "max_amount"}.isdisjoint(data)
    data.update(name="Cash loan 2026", max_daily_rate="0.00060000", grace_days="5",
                code="other", kind="pay_later", min_amount="1.00", max_amount="999999.00")
    # The reason is required: the change is kept on the product's audit chain with it.
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "reason" in response.context["adminform"].form.errors
    response = admin_client.post(url, {**data, "reason": "Board decision 2026-07"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    product.refresh_from_db()
    assert (product.name, product.max_daily_rate, product.grace_days) == (
        "Cash loan 2026", D("0.00060000"), 5)
    assert (product.code, product.kind, product.min_amount, product.max_amount) == (
        "cash", "cash_loan", D("500.00"), D("200000.00"))
    event = audit_trail_of("product", product.pk).last()
    assert (event.action, event.actor_label) == ("product.update", "admin")
    assert event.payload["reason"] == "Board decision 2026-07"
    assert event.payload["changes"]["grace_days"] == [3, 5]
    assert set(event.payload["changes"]) == {"name", "max_daily_rate", "grace_days"}


def test_a_superuser_adds_a_product_through_the_service(admin_client):
    response = admin_client.post(admin_url(CreditProduct, "add"), {
        "code": "cash-plus", "name": "Cash loan plus", "kind": "cash_loan",
        "min_daily_rate": "0.00020000", "max_daily_rate": "0.00050000",
        "penalty_daily_rate": "0.00050000", "allowed_terms": "[12, 3, 6]",
        "repayment_methods": '["equal_instalment"]', "grace_days": "3",
        "min_amount": "500.00", "max_amount": "100000.00", "apr_cap": "24.00",
        "max_partner_share": "0.70000000"})
    assert response.status_code == 302
    product = CreditProduct.objects.get(code="cash-plus")
    # The service sorts the terms, which a bare form would not.
    assert product.allowed_terms == [3, 6, 12]
    assert product.is_active
    assert response.url == admin_url(CreditProduct, "changelist")


def test_a_product_breaking_its_rate_band_is_refused_with_a_form_error(admin_client, line):
    url = admin_url(CreditProduct, "change", line.product.pk)
    data = {**form_data(admin_client.get(url)), "max_daily_rate": "0.00010000",
            "reason": "A typo"}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    line.product.refresh_from_db()
    assert line.product.max_daily_rate == D("0.00065000")


def test_staff_see_products_but_only_superusers_edit_them(officer_client, line):
    client, _officer = officer_client
    url = admin_url(CreditProduct, "change", line.product.pk)
    page = client.get(url)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert client.post(url, {"name": "Renamed"}).status_code == 403
    assert client.get(admin_url(CreditProduct, "add")).status_code == 403
    line.product.refresh_from_db()
    assert line.product.name == "Cash loan"


def test_a_partner_bank_keeps_its_code_and_share_when_edited(admin_client, bank):
    url = admin_url(PartnerBank, "change", bank.pk)
    data = {**form_data(admin_client.get(url)), "name": "Bank A (renamed)",
            "funding_share": "0.10000000", "code": "bank-z", "is_active": ""}
    assert admin_client.post(url, data).status_code == 200  # no reason given
    bank.refresh_from_db()
    assert (bank.name, bank.is_active) == ("Bank bank-a", True)
    assert admin_client.post(url, {**data, "reason": "Contract ended"}).status_code == 302
    bank.refresh_from_db()
    assert (bank.name, bank.code, bank.funding_share, bank.is_active) == (
        "Bank A (renamed)", "bank-a", D("0.70000000"), False)
    event = audit_trail_of("partner_bank", bank.pk).last()
    assert event.action == "partner_bank.update"
    assert event.payload == {"changes": {"name": ["Bank bank-a", "Bank A (renamed)"],
                                         "is_active": [True, False]},
                             "reason": "Contract ended"}
    assert admin_client.get(admin_url(PartnerBank, "add")).status_code == 403


# 降额: the officer's "Lower limit…" action --------------------------------------------------------

def start_action(client, *lines):
    return client.post(admin_url(CreditLine, "changelist"), {
        "action": "lower_limit", "index": 0, "_selected_action": [ln.pk for ln in lines]})


def submit_action(client, line, **fields):
    return client.post(admin_url(CreditLine, "changelist"), {
        "action": "lower_limit", "_selected_action": line.pk, "apply": "yes", **fields})


def action_choices(client):
    page = client.get(admin_url(CreditLine, "changelist"))
    assert page.status_code == 200
    return actions_on(page)


def test_an_officer_sees_the_action(officer_client, line):
    client, _officer = officer_client
    assert action_choices(client)["lower_limit"] == "Lower limit…"


def test_the_intermediate_form_shows_the_line_and_comes_back_to_the_action(line, loan):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user_create(username="officer", password="x", role=RISK_OFFICER))
    page = client.get(admin_url(CreditLine, "changelist"))
    token = page.cookies["csrftoken"].value
    response = client.post(admin_url(CreditLine, "changelist"), {
        "action": "lower_limit", "index": 0, "_selected_action": line.pk,
        "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert "admin/lending/creditline/lower_limit.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert 'data-testid="current-limit">50000.00 CNY' in html
    assert 'data-testid="outstanding">10000.00 CNY' in html
    assert 'data-testid="available">40000.00 CNY' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="action" value="lower_limit"' in html
    assert f'name="_selected_action" value="{line.pk}"' in html
    assert not response.context["form"].is_bound


def test_a_valid_submit_lowers_the_limit_and_records_who_why_and_when(officer_client, line):
    client, officer = officer_client
    set_business_date(date(2026, 3, 1))
    # A cut of 10000 (20 %): below the maker-checker thresholds, so done at once.
    response = submit_action(client, line, new_limit="40000.00", reason="Missed payments")
    assert response.status_code == 302
    assert response.url == admin_url(CreditLine, "changelist")
    assert messages_of(response) == [
        f"The limit of {line} is now 40000.00 (was 50000.00): Missed payments"]
    line.refresh_from_db()
    assert line.credit_limit == D("40000.00")
    event = audit_trail_of("line", line.pk).get()
    assert (event.action, event.actor_id, event.payload["reason"]) == (
        "line.limit_lower", str(officer.pk), "Missed payments")
    change = LimitChange.objects.get(line=line)
    assert (change.old_limit, change.new_limit, change.reason, change.officer,
            change.business_date) == (D("50000.00"), D("40000.00"), "Missed payments", officer,
                                      date(2026, 3, 1))


def test_a_limit_may_go_below_what_is_outstanding(officer_client, line, loan, settings):
    # A cut this large needs a second officer (tests/core/test_approvals.py); not here.
    settings.MAKER_CHECKER = {**settings.MAKER_CHECKER, "LIMIT_CHANGE_SHARE": "1",
                              "LIMIT_CHANGE_AMOUNT": "50000"}
    client, _officer = officer_client
    assert submit_action(client, line, new_limit="0", reason="Fraud suspected").status_code == 302
    line.refresh_from_db()
    assert (line.credit_limit, line.outstanding_principal, line.available) == (
        D("0.00"), D("10000.00"), 0)


@pytest.mark.parametrize(("new_limit", "reason", "field"), [
    ("-1", "Too high", "new_limit"),
    ("abc", "Too high", "new_limit"),
    ("1000.005", "Too high", "new_limit"),
    ("", "Too high", "new_limit"),
    ("50000.00", "Not lower", "__all__"),
    ("60000", "Higher", "__all__"),
    ("30000", "", "reason"),
    ("30000", "   ", "reason"),
])
def test_invalid_input_shows_a_form_error_and_changes_nothing(officer_client, line, new_limit,
                                                              reason, field):
    client, _officer = officer_client
    response = submit_action(client, line, new_limit=new_limit, reason=reason)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'class="errorlist' in response.content.decode()
    line.refresh_from_db()
    assert line.credit_limit == D("50000.00")
    assert not LimitChange.objects.exists()


def test_a_refused_limit_shows_the_services_reason(officer_client, line):
    client, _officer = officer_client
    response = submit_action(client, line, new_limit="50000", reason="Same")
    assert response.context["form"].non_field_errors() == [
        "The new limit must be below the current limit 50000.00."]


def test_one_line_at_a_time(officer_client, line):
    client, _officer = officer_client
    other = CreditLine.objects.create(customer=UserFactory(), product=line.product,
                                      credit_limit=D("20000"), daily_rate=line.daily_rate,
                                      opened_on=START)
    response = start_action(client, line, other)
    assert response.status_code == 302
    assert messages_of(response) == ["Select exactly one line to lower its limit."]
    assert not LimitChange.objects.exists()


def test_the_limit_change_is_shown_in_the_admin_and_on_the_line(officer_client, line):
    client, officer = officer_client
    submit_action(client, line, new_limit="42000", reason="Rescored by hand")
    change = LimitChange.objects.get()
    listed = client.get(admin_url(LimitChange, "changelist")).context["cl"].result_list
    assert list(listed) == [change]
    page = client.get(admin_url(LimitChange, "change", change.pk)).content.decode()
    for text in ("50000.00", "42000.00", "Rescored by hand", officer.username):
        assert text in page
    line_page = client.get(admin_url(CreditLine, "change", line.pk))
    [changes, _rates, _loans] = line_page.context["inline_admin_formsets"]
    assert list(changes.formset.queryset) == [change]
    assert "Rescored by hand" in line_page.content.decode()


def test_a_risk_manager_and_a_superuser_may_lower_limits_too(admin_client, line):
    manager, _user = staff_client(RISK_MANAGER)
    assert submit_action(manager, line, new_limit="40000", reason="Manager").status_code == 302
    assert submit_action(admin_client, line, new_limit="30000", reason="Admin").status_code == 302
    assert list(LimitChange.objects.order_by("pk").values_list("new_limit", flat=True)) == [
        D("40000.00"), D("30000.00")]


def test_a_collector_neither_sees_nor_runs_the_action(collector_client, line):
    assert "lower_limit" not in action_choices(collector_client)
    for response in (start_action(collector_client, line),
                     submit_action(collector_client, line, new_limit="1000", reason="Not mine")):
        # The collector has no action at all on lines: the post shows the list again.
        assert response.status_code == 200
        assert "admin/lending/creditline/lower_limit.html" not in [
            t.name for t in response.templates]
    line.refresh_from_db()
    assert line.credit_limit == D("50000.00")
    assert not LimitChange.objects.exists()


def test_a_customer_cannot_reach_the_admin_nor_lower_a_limit(client, line):
    client.force_login(line.customer)
    for url in (reverse("admin:index"), admin_url(CreditLine, "changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
    response = submit_action(client, line, new_limit="1000", reason="Myself")
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.credit_limit == D("50000.00")
    assert not LimitChange.objects.exists()


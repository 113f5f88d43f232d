"""The officer's actions on a credit line in the admin (raise and lower the limit, freeze,
unfreeze, lift the cap), each allowed or refused by its own permission, and the approvals queue
that a limit change above the maker-checker thresholds goes through."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.models import Notice
from accounts.services import staff_user_create
from core.audit import audit_trail_of
from core.models import ApprovalRequest, ApprovalStatus
from lending.models import CreditLine, CreditLineStatus, LimitChange
from lending.models.lines import FreezeSource
from lending.services import line_limit_lower
from tests.factories import set_business_date

pytestmark = pytest.mark.django_db

D = Decimal
LINES = reverse("admin:lending_creditline_changelist")
APPROVALS = reverse("admin:core_approvalrequest_changelist")
# Each action and the one permission it needs (besides seeing lines).
ACTIONS = {"lower_limit": "lower_limit_creditline", "raise_limit": "raise_limit_creditline",
           "freeze": "freeze_creditline", "unfreeze": "freeze_creditline",
           "lift_cap": "lift_cap_creditline"}


@pytest.fixture(autouse=True)
def business_day(reference_data):
    set_business_date(date(2026, 1, 31))


def staff(username, *perms):
    """A signed-in staff member with exactly these permissions ("app.codename")."""
    user = staff_user_create(username=username, password="x")
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app,
                                                         codename=codename))
    client = Client()
    client.force_login(user)
    return client, user


def officer(username, *codenames):
    return staff(username, "lending.view_creditline", *(f"lending.{c}" for c in codenames))


def checker(username="checker"):
    return staff(username, "lending.view_creditline", "lending.lower_limit_creditline",
                 "lending.raise_limit_creditline", "core.view_approvalrequest",
                 "core.decide_approvalrequest")


def run(client, action, obj, url=LINES, **fields):
    """Submit an action's intermediate form (or, without fields, open it)."""
    data = {"action": action, "_selected_action": obj.pk}
    if fields:
        data = {**data, "apply": "yes", **fields}
    else:
        data["index"] = 0
    return client.post(url, data)


def offered(client, url=LINES):
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["action_form"]
    return set(dict(form.fields["action"].choices)) - {""} if form else set()


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def form_errors(response):
    return response.context["form"].non_field_errors()


# Permissions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("codename", sorted(set(ACTIONS.values())))
def test_each_permission_offers_exactly_its_actions(line, codename):
    client, _user = officer("officer", codename)
    assert offered(client) == {a for a, c in ACTIONS.items() if c == codename}


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_without_its_permission_shows_no_page_and_changes_nothing(line, action):
    others = {c for c in ACTIONS.values() if c != ACTIONS[action]}
    client, _user = officer("officer", *others)
    for response in (run(client, action, line),
                     run(client, action, line, new_limit="60000", reason="Not mine")):
        # An action the officer is not offered: back to the list, no intermediate page.
        assert response.status_code == 302
        assert response.url == LINES
    assert CreditLine.objects.filter(pk=line.pk, credit_limit=D("50000.00"),
                                     status=CreditLineStatus.ACTIVE).exists()
    assert not audit_trail_of("line", line.pk).exists()
    assert not ApprovalRequest.objects.exists()


def test_each_action_opens_its_page_with_the_line(line):
    client, _user = officer("officer", *set(ACTIONS.values()))
    for action in ACTIONS:
        page = run(client, action, line)
        assert page.status_code == 200
        assert not page.context["form"].is_bound
        assert 'data-testid="current-limit">50000.00 CNY' in page.content.decode()


# Raise limit -----------------------------------------------------------------------------------

def test_a_small_raise_is_done_at_once_and_the_customer_told(line):
    client, user = officer("officer", "raise_limit_creditline")
    # 60000 - 50000 = 10000: 20 % of the old limit and below 20000, so no second officer.
    response = run(client, "raise_limit", line, new_limit="60000", reason="Salary rose")
    assert response.status_code == 302
    assert messages_of(response) == [
        f"The limit of {line} is now 60000.00 (was 50000.00): Salary rose"]
    change = LimitChange.objects.get()
    assert (change.old_limit, change.new_limit, change.officer) == (
        D("50000.00"), D("60000.00"), user)
    notice = Notice.objects.get(customer=line.customer)
    assert notice.subject == "Your credit limit is higher"
    assert "You can borrow up to 60000.00 CNY now." in notice.body


@pytest.mark.parametrize(("new_limit", "message"), [
    ("50000", "The new limit must be above the current limit 50000.00."),
    ("200000.01", "The new limit may not pass the product's largest amount 200000.00."),
])
def test_a_raise_out_of_bounds_is_refused_on_the_form(line, new_limit, message, settings):
    settings.MAKER_CHECKER = {**settings.MAKER_CHECKER, "LIMIT_CHANGE_SHARE": "10",
                              "LIMIT_CHANGE_AMOUNT": "1000000"}
    client, _user = officer("officer", "raise_limit_creditline")
    response = run(client, "raise_limit", line, new_limit=new_limit, reason="Asked")
    assert response.status_code == 200
    assert form_errors(response) == [message]
    assert not LimitChange.objects.exists()


def test_a_raise_above_an_officers_cap_is_refused_until_the_cap_is_lifted(line):
    client, user = officer("officer", "raise_limit_creditline", "lift_cap_creditline")
    line_limit_lower(line_id=line.pk, new_limit="45000", reason="Late twice", officer=user)
    response = run(client, "raise_limit", line, new_limit="50000", reason="Paid on time since")
    assert form_errors(response) == [
        "An officer's cap holds this line at 45000.00: lift the cap first, then raise the "
        "limit."]
    response = run(client, "lift_cap", line, reason="Paid on time since")
    assert messages_of(response) == [
        f"The officer's cap on {line} is lifted: Paid on time since"]
    assert run(client, "raise_limit", line, new_limit="50000",
               reason="Paid on time since").status_code == 302
    line.refresh_from_db()
    assert (line.credit_limit, line.officer_cap) == (D("50000.00"), None)
    assert [e.action for e in audit_trail_of("line", line.pk)] == [
        "line.limit_lower", "line.cap_lift", "line.limit_raise"]


def test_lifting_a_cap_that_is_not_there_is_refused(line):
    client, _user = officer("officer", "lift_cap_creditline")
    assert form_errors(run(client, "lift_cap", line, reason="Tidy")) == [
        "No officer's cap holds this line."]


# Freeze and unfreeze ---------------------------------------------------------------------------

def test_an_officer_freezes_and_unfreezes_a_line_and_the_customer_is_told_each_time(line):
    client, user = officer("officer", "freeze_creditline")
    response = run(client, "freeze", line, reason="Identity theft reported")
    assert messages_of(response) == [
        f"{line} is frozen until an officer unfreezes it: Identity theft reported"]
    line.refresh_from_db()
    assert (line.status, line.frozen_by, line.freeze_reason) == (
        CreditLineStatus.FROZEN, FreezeSource.OFFICER, "Identity theft reported")
    assert form_errors(run(client, "freeze", line, reason="Again")) == [
        "An officer has frozen this line already."]
    run(client, "unfreeze", line, reason="Customer verified in branch")
    line.refresh_from_db()
    assert (line.status, line.frozen_by) == (CreditLineStatus.ACTIVE, "")
    assert form_errors(run(client, "unfreeze", line, reason="Again")) == [
        "This line is not frozen."]
    events = audit_trail_of("line", line.pk)
    assert [(e.action, e.actor_id) for e in events] == [
        ("line.freeze", str(user.pk)), ("line.unfreeze", str(user.pk))]
    assert list(Notice.objects.filter(customer=line.customer).order_by("pk")
                .values_list("subject", flat=True)) == [
        "Your Cash loan line is frozen", "Your Cash loan line is open again"]


def test_freezing_needs_a_reason(line):
    client, _user = officer("officer", "freeze_creditline")
    response = run(client, "freeze", line, reason="  ")
    assert "reason" in response.context["form"].errors
    line.refresh_from_db()
    assert line.status == CreditLineStatus.ACTIVE


# Maker-checker through the admin ---------------------------------------------------------------

def test_a_large_cut_is_sent_for_approval_and_a_small_one_is_done(line):
    client, maker = officer("maker", "lower_limit_creditline")
    # 50000 -> 34000: a cut of 16000, 32 % of the old limit (more than 30 %).
    response = run(client, "lower_limit", line, new_limit="34000", reason="Income fell")
    assert messages_of(response) == [
        f"Sent for approval: Lower the limit of line {line.pk} ({line}) from 50000.00 to "
        "34000.00 CNY"]
    line.refresh_from_db()
    assert line.credit_limit == D("50000.00")
    request = ApprovalRequest.objects.get()
    assert (request.kind, request.subject_id, request.maker, request.reason) == (
        "line.limit_lower", str(line.pk), maker, "Income fell")
    # A second request for the same line waits for the first to be decided.
    response = run(client, "lower_limit", line, new_limit="20000", reason="Worse")
    assert "already waits for approval" in form_errors(response)[0]
    # 50000 -> 36000: 14000, 28 %: done at once.
    run(client, "lower_limit", line, new_limit="36000", reason="Income fell")
    line.refresh_from_db()
    assert line.credit_limit == D("36000.00")


def test_a_large_raise_is_sent_for_approval(line):
    client, _maker = officer("maker", "raise_limit_creditline")
    # 50000 -> 70000.01: 20000.01 more, above the amount.
    run(client, "raise_limit", line, new_limit="70000.01", reason="Big employer")
    assert ApprovalRequest.objects.get().kind == "line.limit_raise"
    line.refresh_from_db()
    assert line.credit_limit == D("50000.00")


def test_the_queue_shows_pending_requests_first_to_whoever_may_view_it(line):
    maker_client, maker = officer("maker", "lower_limit_creditline")
    run(maker_client, "lower_limit", line, new_limit="1000", reason="First")
    approver_client, _approver = checker()
    first = ApprovalRequest.objects.get()
    approver_client.post(APPROVALS, {"action": "reject", "_selected_action": first.pk,
                                     "apply": "yes", "reason": "Not enough evidence"})
    run(maker_client, "lower_limit", line, new_limit="2000", reason="Second")
    second = ApprovalRequest.objects.exclude(pk=first.pk).get()
    listed = approver_client.get(APPROVALS).context["cl"].result_list
    assert [r.pk for r in listed] == [second.pk, first.pk]
    assert offered(approver_client, APPROVALS) == {"approve", "reject"}
    viewer, _user = staff("viewer", "core.view_approvalrequest")
    assert offered(viewer, APPROVALS) == set()
    assert maker_client.get(APPROVALS).status_code == 403


def test_the_queue_names_kinds_in_words_and_filters_by_them(line):
    maker_client, _maker = officer("maker", "lower_limit_creditline", "raise_limit_creditline")
    run(maker_client, "lower_limit", line, new_limit="1000", reason="Fraud ring")
    approver_client, _approver = checker()
    page = approver_client.get(APPROVALS)
    headers = [str(h["text"]).lower() for h in page.context["result_headers"]]
    assert headers[1:] == ["id", "requested", "status", "summary", "maker", "checker"]
    changelist = page.context["cl"]
    kinds = {c["display"]: c["query_string"]
             for c in changelist.filter_specs[1].choices(changelist)}
    # Every kind lending and collections registered, by its label, never by its code.
    assert {"Lower a line's limit", "Raise a line's limit", "Extend a loan's term",
            "Waive a loan's penalty", "Write off a loan", "Approve a hardship request"} < set(kinds)
    # The code is in the filter's links, not in the page's text.
    assert "line.limit_lower" not in re.sub(r"<[^>]+>", " ", page.content.decode())
    lowered = approver_client.get(APPROVALS + kinds["Lower a line's limit"])
    assert len(lowered.context["cl"].result_list) == 1
    raised = approver_client.get(APPROVALS + kinds["Raise a line's limit"])
    assert len(raised.context["cl"].result_list) == 0


def test_the_maker_is_refused_and_a_second_officer_approves_through_the_admin(line):
    maker_client, maker = staff("maker", "lending.view_creditline",
                                "lending.lower_limit_creditline", "core.view_approvalrequest",
                                "core.decide_approvalrequest")
    run(maker_client, "lower_limit", line, new_limit="10000", reason="Fraud ring")
    request = ApprovalRequest.objects.get()
    page = run(maker_client, "approve", request, url=APPROVALS)
    assert "This is your own request" in page.content.decode()
    response = run(maker_client, "approve", request, url=APPROVALS, confirm="yes")
    assert form_errors(response) == [
        "Nobody approves or rejects their own request: a second officer must decide it."]
    approver_client, approver = checker()
    page = run(approver_client, "approve", request, url=APPROVALS)
    assert "Lower the limit of line" in page.content.decode()
    response = run(approver_client, "approve", request, url=APPROVALS, confirm="yes")
    assert messages_of(response) == [f"Approved and done: {request.summary}"]
    request.refresh_from_db()
    line.refresh_from_db()
    assert (request.status, request.checker, line.credit_limit) == (
        ApprovalStatus.APPROVED, approver, D("10000.00"))


def test_a_failed_approval_is_shown_to_the_checker(line):
    maker_client, _maker = officer("maker", "lower_limit_creditline")
    run(maker_client, "lower_limit", line, new_limit="10000", reason="Fraud ring")
    request = ApprovalRequest.objects.get()
    approver_client, approver = checker()
    line_limit_lower(line_id=line.pk, new_limit="9000", reason="Meanwhile", officer=approver)
    response = run(approver_client, "approve", request, url=APPROVALS, confirm="yes")
    assert form_errors(response) == [
        f"Not done, and request #{request.pk} is now marked failed: The new limit must be "
        "below the current limit 9000.00."]
    assert "This request is decided" in response.content.decode()
    request.refresh_from_db()
    assert request.status == ApprovalStatus.FAILED


def test_rejecting_through_the_admin_needs_a_reason(line):
    maker_client, _maker = officer("maker", "lower_limit_creditline")
    run(maker_client, "lower_limit", line, new_limit="10000", reason="Fraud ring")
    request = ApprovalRequest.objects.get()
    approver_client, _approver = checker()
    response = run(approver_client, "reject", request, url=APPROVALS, reason=" ")
    assert "reason" in response.context["form"].errors
    response = run(approver_client, "reject", request, url=APPROVALS, reason="No proof")
    assert response.status_code == 302
    request.refresh_from_db()
    line.refresh_from_db()
    assert (request.status, request.decision_reason, line.credit_limit) == (
        ApprovalStatus.REJECTED, "No proof", D("50000.00"))

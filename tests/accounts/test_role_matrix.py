"""Every officer action and back-office page, by every role: offered (and so accepted by the
admin, which refuses an action it did not offer) or refused, as the role says. The services
behind the actions check their own rules; these are the doors."""

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.roles import (
    AUDITOR,
    COLLECTIONS_MANAGER,
    COLLECTOR,
    RISK_MANAGER,
    RISK_OFFICER,
    SENIOR_OFFICER,
)
from accounts.services import staff_user_create
from core.models import ApprovalRequest, AuditEvent
from debt_collection.models import CollectionCase, HardshipRequest
from lending.models import CreditLine, Loan, LoanExtension
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLES = [RISK_OFFICER, SENIOR_OFFICER, COLLECTOR, COLLECTIONS_MANAGER, RISK_MANAGER, AUDITOR]
OFFICERS = {RISK_OFFICER, SENIOR_OFFICER, RISK_MANAGER}
APPROVERS = {SENIOR_OFFICER, RISK_MANAGER}
CASE_WORKERS = {COLLECTOR, COLLECTIONS_MANAGER}

# (model, action): the roles offered it.
ACTIONS = {
    (CreditLine, "lower_limit"): OFFICERS,
    (CreditLine, "raise_limit"): OFFICERS,
    (CreditLine, "freeze"): OFFICERS,
    (CreditLine, "unfreeze"): OFFICERS,
    (CreditLine, "lift_cap"): OFFICERS,
    (Loan, "extend_term"): OFFICERS,
    (Loan, "waive_penalty"): OFFICERS,
    (Loan, "write_off"): OFFICERS,
    (CollectionCase, "log_contact"): CASE_WORKERS,
    (CollectionCase, "promise_to_pay"): CASE_WORKERS,
    (CollectionCase, "reassign"): {COLLECTIONS_MANAGER},
    (HardshipRequest, "approve"): OFFICERS,
    (HardshipRequest, "reject"): OFFICERS,
    (ApprovalRequest, "approve"): APPROVERS,
    (ApprovalRequest, "reject"): APPROVERS,
}

# (model, the roles that may open its list; the others get 403).
PAGES = [
    (CreditLine, {*OFFICERS, COLLECTOR, COLLECTIONS_MANAGER, AUDITOR}),
    (Loan, set(ROLES)),
    (LoanExtension, {*OFFICERS, AUDITOR}),
    (CollectionCase, set(ROLES)),
    (HardshipRequest, set(ROLES)),
    (ApprovalRequest, {*OFFICERS, AUDITOR}),
    (AuditEvent, {AUDITOR}),
]


@pytest.fixture
def staff_of():
    """A staff user of the role asked for."""
    return lambda role: staff_user_create(username=role.lower().replace(" ", "-"), password="x",
                                          role=role)


def offered(user, model):
    request = RequestFactory().get("/")
    request.user = user
    return set(admin.site._registry[model].get_actions(request))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_offered_exactly_its_actions(staff_of, role):
    user = staff_of(role)
    for (model, action), roles in ACTIONS.items():
        assert (action in offered(user, model)) is (role in roles), (role, model, action)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_exactly_its_pages(staff_of, role):
    client = Client()
    client.force_login(staff_of(role))
    for model, roles in PAGES:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == (200 if role in roles else 403), (role, model)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_opens_a_customers_page(staff_of, role):
    client = Client()
    client.force_login(staff_of(role))
    customer = UserFactory()
    page = client.get(reverse("admin:customer_file", args=[customer.pk]))
    assert page.status_code == 200
    # Only the auditor may verify the audit chains from it.
    assert ("Verify" in page.content.decode()) is (role == AUDITOR)


def test_staff_without_a_role_and_customers_are_kept_out_of_the_customer_page():
    customer = UserFactory()
    url = reverse("admin:customer_file", args=[customer.pk])
    staff = Client()
    staff.force_login(staff_user_create(username="no-role", password="x"))
    assert staff.get(url).status_code == 403
    other = Client()
    other.force_login(UserFactory())
    response = other.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))

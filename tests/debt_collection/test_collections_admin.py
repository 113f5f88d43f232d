"""The collections workspace in the admin: who sees which cases and actions, masking by role,
and the actions calling the services.

The case of tests/debt_collection/conftest.py: 918.64 overdue on Mar 4, assigned to Alice;
the customer's phone is 13812345678 and identity number 11010519491231002X."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from debt_collection.models import CollectionCase, CollectionContact, PromiseToPay
from tests.factories import ProfileFactory, UserFactory

from .staff import make_collector, make_manager

pytestmark = pytest.mark.django_db
D = Decimal
CASES = reverse("admin:debt_collection_collectioncase_changelist")


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def case_page(case):
    return reverse("admin:debt_collection_collectioncase_change", args=[case.pk])


@pytest.fixture
def world(overdue_case):
    case, loan, alice = overdue_case
    ProfileFactory(user=case.customer, full_name="Wang Fang", id_number="11010519491231002X")
    # A second case, Bob's, of another customer.
    bob = make_collector("bob")
    other = CollectionCase.objects.create(
        customer=UserFactory(), bucket="M2", days_past_due=40, amount_overdue=D("2000.00"),
        opened_on=date(2026, 3, 4), updated_on=date(2026, 3, 4), assigned_to=bob,
        assigned_on=date(2026, 3, 4))
    return case, other, alice, bob


def listed(response):
    return [c.pk for c in response.context["cl"].result_list]


def actions_of(response):
    form = response.context["action_form"]
    return set(dict(form.fields["action"].choices)) - {""} if form else set()


def test_a_collector_sees_their_own_queue_masked_and_may_work_it(world):
    case, other, alice, _bob = world
    client = signed_in(alice)
    page = client.get(CASES)
    assert page.status_code == 200
    assert listed(page) == [case.pk]
    assert actions_of(page) == {"log_contact", "promise_to_pay"}
    html = page.content.decode()
    assert "*******5678" in html and "13812345678" not in html
    detail = client.get(case_page(case)).content.decode()
    assert "**************002X" in detail and "11010519491231002X" not in detail
    assert "Wang Fang" in detail
    assert "918.64" in detail
    # Someone else's case is not theirs to open.
    assert client.get(case_page(other)).status_code == 302


def test_a_manager_sees_every_open_case_in_priority_order_unmasked(world):
    case, other, _alice, _bob = world
    client = signed_in(make_manager("mona"))
    page = client.get(CASES)
    # Bob's M2 case before Alice's M1 case: the later bucket first.
    assert listed(page) == [other.pk, case.pk]
    assert actions_of(page) == {"log_contact", "promise_to_pay", "reassign"}
    assert "13812345678" in page.content.decode()
    assert "11010519491231002X" in client.get(case_page(case)).content.decode()
    assert listed(client.get(CASES, {"queue": "closed"})) == []


def test_the_queue_shows_what_a_collector_works_by_in_short_columns(world):
    case, other, _alice, bob = world
    # Bob's customer broke a promise; Alice's customer has one pending.
    CollectionCase.objects.filter(pk=other.pk).update(promise_broken_on=date(2026, 3, 3))
    PromiseToPay.objects.create(case=case, amount=D("500.00"), promised_for=date(2026, 3, 6),
                                made_by=bob, made_on=date(2026, 3, 4))
    page = signed_in(make_manager("mona")).get(CASES)
    headers = [str(h["text"]) for h in page.context["result_headers"]]
    assert headers[1:] == ["Customer", "Bucket", "Days late", "Overdue", "Promise", "Collector"]
    table = re.search(r"<tbody>(.*?)</tbody>", page.content.decode(), re.S).group(1)
    rows = [[re.sub(r"<[^>]+>", " ", cell).split()
             for cell in re.findall(r"<t[dh] class=\"field-[^>]*>(.*?)</t[dh]>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    # Bob's M2 case first (the later bucket), then Alice's; the name over the phone number.
    assert rows == [
        [[other.customer.username], ["M2"], ["40"], ["2000.00"], ["Broken"], ["bob"]],
        [["Wang", "Fang", "13812345678"], ["M1"], ["4"], ["918.64"], ["Pending"], ["alice"]]]


def test_staff_without_collections_permissions_see_nothing(world):
    assert signed_in(UserFactory(username="clerk", is_staff=True)).get(CASES).status_code == 403


def test_a_reader_who_works_no_cases_sees_them_all_masked_and_acts_on_none(world):
    case, other, _alice, _bob = world
    reader = UserFactory(username="auditor", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_collectioncase"))
    page = signed_in(reader).get(CASES)
    assert listed(page) == [other.pk, case.pk]
    assert actions_of(page) == set()
    assert "*******5678" in page.content.decode()


def test_log_contact_and_promise_to_pay_through_the_actions(world):
    case, other, alice, _bob = world
    client = signed_in(alice)
    form = client.post(CASES, {"action": "log_contact", "index": 0,
                               "_selected_action": case.pk})
    assert "admin/debt_collection/collectioncase/log_contact.html" in [
        t.name for t in form.templates]
    done = client.post(CASES, {"action": "log_contact", "_selected_action": case.pk,
                               "apply": "yes", "channel": "phone", "outcome": "promised",
                               "note": "Pays Friday"})
    assert done.status_code == 302
    contact = CollectionContact.objects.get()
    assert (contact.case, contact.collector, contact.note) == (case, alice, "Pays Friday")
    refused = client.post(CASES, {"action": "promise_to_pay", "_selected_action": case.pk,
                                  "apply": "yes", "amount": "1000.00",
                                  "promised_for": "2026-03-06"})
    assert refused.status_code == 200
    assert "more than what is overdue" in refused.content.decode()
    client.post(CASES, {"action": "promise_to_pay", "_selected_action": case.pk,
                        "apply": "yes", "amount": "500.00", "promised_for": "2026-03-06"})
    promise = PromiseToPay.objects.get()
    assert (promise.amount, promise.promised_for) == (D("500.00"), date(2026, 3, 6))
    # Bob's case cannot be selected by Alice: the action finds nothing to act on.
    client.post(CASES, {"action": "log_contact", "_selected_action": other.pk, "apply": "yes",
                        "channel": "phone", "outcome": "no_answer", "note": ""})
    assert CollectionContact.objects.count() == 1


def test_a_collector_cannot_reassign_and_a_manager_can(world):
    case, _other, alice, bob = world
    signed_in(alice).post(CASES, {"action": "reassign", "_selected_action": case.pk,
                                  "apply": "yes", "to_user": bob.pk, "reason": "Mine now"})
    case.refresh_from_db()
    assert case.assigned_to == alice
    response = signed_in(make_manager("mona")).post(
        CASES, {"action": "reassign", "_selected_action": case.pk, "apply": "yes",
                "to_user": bob.pk, "reason": "Alice on leave"})
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"{case} is now assigned to bob."]
    case.refresh_from_db()
    assert case.assigned_to == bob

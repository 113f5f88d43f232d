"""A collector in a real browser: signs in to the admin, opens their queue, logs a contact and
takes a promise to pay."""

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from debt_collection.models import CollectionCase, CollectionContact, PromiseToPay
from tests.debt_collection.staff import make_collector
from tests.factories import UserFactory, set_business_date

pytestmark = [pytest.mark.browser]


def run_action(page, case, label):
    page.locator(f"input[name=_selected_action][value='{case.pk}']").check()
    page.locator("select[name=action]").select_option(label=label)
    page.get_by_title("Run the selected action").click()


def test_a_collector_logs_a_contact_and_a_promise(live_server, transactional_db, chromium):
    set_business_date(date(2026, 3, 4))
    collector = make_collector("alice")
    collector.set_password("collect-it-all")
    collector.save(update_fields=["password"])
    customer = UserFactory(username="wang", phone="13812345678")
    case = CollectionCase.objects.create(
        customer=customer, bucket="M1", days_past_due=4, amount_overdue=Decimal("918.64"),
        opened_on=date(2026, 3, 4), updated_on=date(2026, 3, 4), assigned_to=collector,
        assigned_on=date(2026, 3, 4))
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/debt_collection/collectioncase/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("collect-it-all")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text("*******5678")
    expect(row).to_contain_text("918.64")

    run_action(page, case, "Log contact…")
    expect(page.get_by_test_id("amount-overdue")).to_have_text("918.64 CNY")
    page.get_by_label("Channel").select_option("phone")
    page.get_by_label("Outcome").select_option("promised")
    page.get_by_label("Note").fill("Will pay on Tuesday")
    page.get_by_role("button", name="Log contact").click()
    expect(page.get_by_text(re.compile(r"Logged on .*: Phone call, Promised to pay\."))) \
        .to_be_visible()

    run_action(page, case, "Promise to pay…")
    page.get_by_label("Amount promised").fill("500.00")
    page.get_by_label("Pay by").fill("2026-03-10")
    page.get_by_role("button", name="Record promise").click()
    expect(page.get_by_text(re.compile(r"Promise on .*: 500\.00 CNY by 2026-03-10\."))) \
        .to_be_visible()
    context.close()

    contact = CollectionContact.objects.get()
    assert (contact.case_id, contact.collector_id, contact.note) == (
        case.pk, collector.pk, "Will pay on Tuesday")
    promise = PromiseToPay.objects.get()
    assert (promise.amount, promise.promised_for, promise.made_on) == (
        Decimal("500.00"), date(2026, 3, 10), date(2026, 3, 4))

"""Maker-checker in a real browser: an officer's large limit cut waits for a second officer, the
maker cannot approve it, the second officer does, and the limit changes once."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from playwright.sync_api import expect

from accounts.services import staff_user_create
from core.models import ApprovalRequest
from lending.models import CreditLine, LimitChange
from tests.factories import CreditLineFactory

pytestmark = [pytest.mark.browser]

PERMISSIONS = [("lending", "view_creditline"), ("lending", "lower_limit_creditline"),
               ("core", "view_approvalrequest"), ("core", "decide_approvalrequest")]


def signed_in(page, live_server, username):
    """An officer who may cut limits and decide requests, signed in on `page` (its session
    cookie set directly: the login form is tested elsewhere)."""
    user = staff_user_create(username=username, password="x")
    user.user_permissions.add(*[Permission.objects.get(content_type__app_label=app, codename=c)
                                for app, c in PERMISSIONS])
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def run_action(page, url, pk, action):
    page.goto(url)
    page.locator(f'input[name="_selected_action"][value="{pk}"]').check()
    page.locator('select[name="action"]').select_option(label=action)
    page.locator('button[name="index"]').click()


def test_a_large_cut_waits_for_a_second_officer(live_server, transactional_db, phone_page):
    line = CreditLineFactory()
    page = phone_page
    lines_url = f"{live_server.url}/admin/lending/creditline/"
    approvals_url = f"{live_server.url}/admin/core/approvalrequest/"

    signed_in(page, live_server, "maker")
    run_action(page, lines_url, line.pk, "Lower limit…")
    page.get_by_label("New limit").fill("10000")
    page.get_by_label("Reason").fill("Income fell by half")
    page.get_by_role("button", name="Lower limit").click()
    expect(page.get_by_text(re.compile(r"Sent for approval: Lower the limit of line \d+ .* "
                                       r"from 50000\.00 to 10000\.00 CNY"))).to_be_visible()
    assert CreditLine.objects.get(pk=line.pk).credit_limit == Decimal("50000.00")

    request_pk = ApprovalRequest.objects.get().pk
    run_action(page, approvals_url, request_pk, "Approve…")
    expect(page.get_by_text("This is your own request")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Nobody approves or rejects their own request")).to_be_visible()
    assert CreditLine.objects.get(pk=line.pk).credit_limit == Decimal("50000.00")

    signed_in(page, live_server, "checker")
    run_action(page, approvals_url, request_pk, "Approve…")
    expect(page.get_by_test_id("summary")).to_contain_text("to 10000.00 CNY")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved and done")).to_be_visible()
    assert CreditLine.objects.get(pk=line.pk).credit_limit == Decimal("10000.00")
    assert LimitChange.objects.filter(line=line).count() == 1

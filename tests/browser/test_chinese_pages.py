"""A customer whose phone is set to Chinese: the borrow page, the quote and the loan page come
in Simplified Chinese at phone width, with the amounts as ¥, and nothing wider than the screen.
The screenshots are kept in the test's temporary directory for a person to look at."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from accounts.models import User
from lending.models import Loan
from tests.browser.conftest import PHONE
from tests.factories import (
    CreditLineFactory,
    ProfileFactory,
    UserFactory,
    partner_bank,
    set_business_date,
)

pytestmark = [pytest.mark.browser]


def fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def chinese_phone(chromium):
    """A phone whose browser asks for Simplified Chinese (Accept-Language: zh-CN)."""
    context = chromium.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_borrow_and_the_loan_page_in_chinese_on_a_phone(
    live_server, transactional_db, chinese_phone, tmp_path
):
    set_business_date(date(2026, 1, 31))
    partner_bank()
    customer = UserFactory(username="mei")
    ProfileFactory(user=customer)
    CreditLineFactory(customer=customer)
    page = chinese_phone

    page.goto(f"{live_server.url}/login/")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.get_by_label("电子邮箱或用户名").fill("mei")
    page.get_by_label("密码").fill("correct-horse-battery")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="您好，mei")).to_be_visible()
    # The first sign-in keeps the browser's language for the notices.
    assert User.objects.get(pk=customer.pk).language == "zh-hans"

    page.get_by_role("link", name="借钱").first.click()
    expect(page.get_by_role("heading", name="借钱")).to_be_visible()
    page.get_by_label("金额（CNY）").fill("10000")
    page.get_by_label("12 个月").check()
    page.get_by_label("等额本息").check()
    page.screenshot(path=tmp_path / "borrow.png", full_page=True)
    assert fits_the_screen(page)

    page.get_by_role("button", name="查看试算").click()
    expect(page.get_by_role("heading", name="借款试算")).to_be_visible()
    expect(page.get_by_text("年化利率").first).to_be_visible()
    page.screenshot(path=tmp_path / "quote.png", full_page=True)
    assert fits_the_screen(page)

    page.get_by_role("button", name=re.compile(r"确认借款 ¥10,000\.00")).click()
    expect(page.get_by_text("您借款的 ¥10,000.00 正在放款中。")).to_be_visible()
    loan = Loan.objects.get(line__customer=customer)
    expect(page.get_by_role("heading", name=f"借款 #{loan.pk}")).to_be_visible()
    expect(page.get_by_test_id("loan-status")).to_have_text("还款中")
    expect(page.get_by_test_id("loan-outstanding")).to_have_text("¥10,000.00")
    expect(page.get_by_text("2026年1月31日")).to_be_visible()  # borrowed on, in a sentence
    expect(page.get_by_test_id("loan-schedule")).to_contain_text("2026-02-28")
    page.screenshot(path=tmp_path / "loan.png", full_page=True)
    page.screenshot(path=tmp_path / "loan_first_screen.png")  # what a phone shows first
    assert fits_the_screen(page)
    print(f"screenshots: {tmp_path}")  # noqa: T201 (for a person to look at, with -s)

"""What a customer who reads Chinese gets from lending (README, "Languages"): the pay-later
line's refusals with their figures, the notices an officer's action writes, and the overdue
rule's freeze reason, in Chinese; a refusal still in English only (the cash-loan services')
falls back to the sentence for its code. The English of all of these is asserted where each
is tested (test_pay_later_pages, test_line_actions, test_extension, test_freezes)."""

from datetime import date

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.models import Notice
from core.audit import actor_user
from lending.errors import CUSTOMER_MESSAGES, Overpayment, customer_message
from lending.models import CreditLine, Loan, PayLaterPayment
from lending.models.lines import FreezeSource
from lending.services import (
    credit_line_freeze,
    line_limit_raise,
    loan_extension_quote,
    loan_originate,
    loan_repay,
    loan_term_extend,
    purchase_create,
    statements_cut,
)
from lending.services.freezes import REASON_PREFIX, STATEMENT_REASON, freeze_reason_text
from tests.factories import MerchantFactory, PayLaterLineFactory, UserFactory, set_business_date

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_afterwards():
    """A request leaves its language active in the thread; the next test starts in English."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def reads_chinese(customer):
    customer.language = "zh-hans"
    customer.save(update_fields=["language"])
    return customer


@pytest.fixture
def officer(db):
    return UserFactory(username="officer", is_staff=True)


@pytest.fixture
def card(db):
    """A pay-later line whose owner reads Chinese, with an 800.00 statement cut on 1 February
    (due 10 February), read on 2 February."""
    set_business_date(date(2026, 1, 15))
    card = PayLaterLineFactory(opened_on=date(2026, 1, 10))
    purchase_create(
        line=card,
        merchant=MerchantFactory(),
        amount="800.00",
        order_reference="order-1",
        description="Sofa",
    )
    set_business_date(date(2026, 2, 1))
    statements_cut(day=date(2026, 2, 1))
    set_business_date(date(2026, 2, 2))
    reads_chinese(card.customer)
    return card


# Refusals -------------------------------------------------------------------------------------


def test_paying_too_much_is_refused_in_chinese_with_the_most_that_can_be_paid(client, card):
    client.force_login(card.customer)
    form = client.get(reverse("pay_later_pay")).context["form"]
    response = client.post(
        reverse("pay_later_pay"),
        {
            "idempotency_key": form["idempotency_key"].value(),
            "full_amount": form["full_amount"].value(),
            "minimum_amount": form["minimum_amount"].value(),
            "choice": "other",
            "amount": "900",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == ["超过了您的应还金额：最多可还 800.00 元。"]
    assert not PayLaterPayment.objects.exists()


def test_a_refusal_in_english_only_reads_as_the_sentence_for_its_code():
    """A cash loan's overpayment carries English figures: a Chinese page shows its code's
    sentence instead. One written in the active language is shown as it is."""
    english_only = Overpayment("That is more than the pay-off today: at most 218.60.")
    with translation.override("zh-hans"):
        translated = Overpayment(
            translation.gettext("That is more than you owe: at most %(owed)s.")
            % {"owed": "800.00"},
            translated=True,
        )
        assert customer_message(english_only) == str(CUSTOMER_MESSAGES["overpayment"])
        assert "218.60" not in customer_message(english_only)
        assert customer_message(translated) == "超过了您的应还金额：最多可还 800.00 元。"
    assert customer_message(english_only) == str(english_only)


# An officer's notices -------------------------------------------------------------------------


def test_an_officers_freeze_and_raise_are_told_in_the_customers_language(line, officer):
    reads_chinese(line.customer)
    credit_line_freeze(line_id=line.pk, reason="Identity check", actor=actor_user(officer))
    line_limit_raise(
        line_id=line.pk,
        new_limit="60000",
        reason="Salary rose",
        actor=actor_user(officer),
        officer=officer,
    )
    notices = dict(Notice.objects.filter(customer=line.customer).values_list("subject", "body"))
    contact = settings.SUPPORT_CONTACT
    assert notices == {
        "您的Cash loan额度已冻结": "我们已冻结您的Cash loan额度：解冻前无法借款或消费。"
        f"已借的款项照常进行，请按原计划还款。如有疑问，请联系{contact}。",
        "您的额度已提升": "您的Cash loan额度已调整为 60000.00 CNY（原为 50000.00 CNY）。"
        f"您现在最多可借 60000.00 CNY。已借的款项不受影响。如有疑问，请联系{contact}。",
    }


def test_a_term_extension_is_told_in_chinese_with_chinese_dates(line, officer):
    """The loan of test_extension's equal-principal example: 1,200.00 over 3 months from
    15 January, the first instalment paid, extended by 2 months on 20 February."""
    reads_chinese(line.customer)
    set_business_date(date(2026, 1, 15))
    loan = loan_originate(
        line_id=line.pk,
        principal="1200",
        term_months=3,
        method="equal_principal",
        idempotency_key="loan",
        scope="test",
    )
    set_business_date(date(2026, 2, 15))
    loan_repay(loan_id=loan.pk, amount="418.60", idempotency_key="pay-1", scope="test")
    set_business_date(date(2026, 2, 20))
    quote = loan_extension_quote(loan=Loan.objects.get(pk=loan.pk), extra_months=2)
    loan_term_extend(
        loan_id=loan.pk,
        extra_months=2,
        reason="Lost a job",
        actor=actor_user(officer),
        shown=quote.fingerprint,
    )
    notice = Notice.objects.get(customer=line.customer, key__contains="extension")
    assert notice.subject == "您的借款已展期"
    assert notice.body.startswith(
        f"我们已将借款 {loan.pk} 展期 2 个月。您尚欠的 800.00 CNY 改为分 4 期按月偿还："
    )
    assert "于 2026年3月15日 到期，末期于 2026年6月15日 到期。" in notice.body


# The overdue rule's freeze reason -------------------------------------------------------------


def test_the_rules_freeze_reasons_are_translated_and_an_officers_kept():
    with translation.override("zh-hans"):
        assert freeze_reason_text(f"{REASON_PREFIX}12") == "借款 12 逾期未还"
        assert freeze_reason_text(STATEMENT_REASON) == "花呗账单逾期未还"
        assert freeze_reason_text("Identity check") == "Identity check"
    assert freeze_reason_text(STATEMENT_REASON) == "Payment overdue on the pay-later statement"


def test_a_line_the_rule_froze_shows_its_reason_in_chinese(client, card):
    CreditLine.objects.filter(pk=card.pk).update(
        status="frozen", frozen_by=FreezeSource.OVERDUE, freeze_reason=STATEMENT_REASON
    )
    client.force_login(card.customer)
    for name in ("dashboard", "pay_later_home"):
        html = client.get(reverse(name)).content.decode()
        assert "花呗账单逾期未还：逾期款项还清后会自动恢复。" in html, name
        assert STATEMENT_REASON not in html, name

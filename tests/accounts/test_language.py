"""Both languages: pages in the browser's language or the one the customer chose and kept,
notices in the customer's language, amounts and dates as each language writes them, and a
catalogue with every string of the customer pages translated (README, "Languages")."""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from accounts.models import Notice
from core.money_format import money_html, money_text
from debt_collection.services.hardship import hardship_request_submit
from lending.labels import CUSTOMER_LABELS
from lending.services import loan_originate
from risk.features.application import APPLICATION_FEATURES
from risk.reason_texts import FEATURE_REASONS
from tests.factories import UserFactory, set_business_date

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.5"}


@pytest.fixture(autouse=True)
def english_afterwards():
    """A request leaves its language active in the thread; the next test starts in English."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.mark.django_db
def test_the_browser_asking_for_chinese_gets_chinese_pages(client):
    page = client.get(reverse("login"), **CHINESE)
    assert page["Content-Language"] == "zh-hans"
    html = page.content.decode()
    assert '<html lang="zh-Hans">' in html
    assert "<h1>登录</h1>" in html and "Log in" not in html
    assert "Accept-Language" in page["Vary"]


@pytest.mark.django_db
def test_english_stays_the_default(client):
    page = client.get(reverse("login")).content.decode()
    assert "<h1>Log in</h1>" in page and "登录" not in page


@pytest.mark.django_db
def test_a_signed_in_customer_sees_the_dashboard_in_chinese(client):
    client.force_login(UserFactory())
    html = client.get(reverse("dashboard"), **CHINESE).content.decode()
    assert "我的额度" in html and "我的借款" in html
    assert "Your credit lines" not in html


@pytest.mark.django_db
def test_the_switch_is_kept_on_the_account_and_applies_at_the_next_sign_in(client):
    mei = UserFactory(username="mei")
    client.force_login(mei)
    switched = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("dashboard")}
    )
    assert switched.status_code == 302 and switched["Location"] == reverse("dashboard")
    mei.refresh_from_db()
    assert mei.language == "zh-hans"

    # Another browser, which asks for English: the kept language wins, and its cookie is set.
    elsewhere = Client(HTTP_ACCEPT_LANGUAGE="en")
    elsewhere.force_login(mei)
    page = elsewhere.get(reverse("dashboard"))
    assert "我的额度" in page.content.decode()
    assert page.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"

    # And back: English is kept just the same.
    elsewhere.post(reverse("set_language"), {"language": "en", "next": "/"})
    mei.refresh_from_db()
    assert mei.language == "en"
    elsewhere.force_login(mei)
    assert "Your credit lines" in elsewhere.get(reverse("dashboard"), **CHINESE).content.decode()


@pytest.mark.django_db
def test_the_switch_refuses_a_get_and_ignores_an_unknown_language(client):
    mei = UserFactory(username="mei")
    client.force_login(mei)
    assert client.get(reverse("set_language")).status_code == 405
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    mei.refresh_from_db()
    assert mei.language == ""


@pytest.mark.django_db
def test_a_first_sign_in_keeps_the_language_the_browser_asked_for(client):
    jun = UserFactory(username="jun@example.com", email="jun@example.com")
    jun.set_password("a-long-passphrase-2026")
    jun.save()
    response = client.post(
        reverse("login"),
        {"username": "jun@example.com", "password": "a-long-passphrase-2026"},
        **CHINESE,
    )
    assert response.status_code == 302
    jun.refresh_from_db()
    assert jun.language == "zh-hans"


@pytest.mark.django_db
def test_the_back_office_stays_english(client):
    page = client.get(reverse("admin:login"), **CHINESE)
    assert page["Content-Language"] == "en"
    assert "登录" not in page.content.decode()


@pytest.mark.django_db
def test_a_notice_made_by_an_officer_page_is_in_the_customers_language(line):
    """The request is submitted while English is active (an officer's or a batch's context):
    the customer, who reads Chinese, gets the notice in Chinese."""
    set_business_date(date(2026, 1, 31))
    loan = loan_originate(
        line_id=line.pk,
        principal="1200",
        term_months=3,
        method="equal_principal",
        idempotency_key="loan",
        scope="test",
    )
    customer = loan.line.customer
    customer.language = "zh-hans"
    customer.save(update_fields=["language"])
    with translation.override("en"):
        hardship_request_submit(
            customer=customer,
            loan_id=loan.pk,
            kind="pause",
            months_asked=2,
            reason="illness",
            situation="I was in hospital in January.",
        )
    notice = Notice.objects.get(customer=customer)
    assert notice.subject == f"已收到您对借款 {loan.pk} 的困难申请"
    assert f"您为借款 {loan.pk} 申请了暂缓还款 2 个月。" in notice.body


def test_amounts_and_dates_as_each_language_writes_them():
    day, amount = date(2026, 12, 5), Decimal("12345.6")
    with translation.override("en"):
        assert money_text(amount) == "12,345.60 CNY"
        assert money_html(amount) == '12,345.60 <span class="cur">CNY</span>'
        assert formats.date_format(day, "DATE_FORMAT") == "5 Dec 2026"
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "2026-12-05"
    with translation.override("zh-hans"):
        assert money_text(amount) == "¥12,345.60"
        assert money_html(amount) == '<span class="cur">¥</span>12,345.60'
        assert formats.date_format(day, "DATE_FORMAT") == "2026年12月5日"
        assert formats.date_format(day, "MONTH_DAY_FORMAT") == "12月5日"
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "2026-12-05"


# The catalogue ---------------------------------------------------------------------------------


def test_every_message_of_the_catalogue_is_translated():
    with CATALOGUE.open("rb") as po:
        catalogue = read_po(po)
    untranslated = [
        message.id
        for message in catalogue
        if message.id
        and (
            message.fuzzy
            or not all(message.string if isinstance(message.string, tuple) else [message.string])
        )
    ]
    assert untranslated == []
    assert len(catalogue) > 300


def test_lendings_choice_labels_are_all_marked_and_translated():
    for choices, (context, marked) in CUSTOMER_LABELS.items():
        assert sorted(str(label) for label in marked) == sorted(choices.labels), choices
        with translation.override("zh-hans"):
            for label in choices.labels:
                assert translation.pgettext(context, label) != label, (context, label)


def test_the_a_card_reasons_are_all_marked_and_translated():
    sentences = [s for f in APPLICATION_FEATURES for s in (f.reason_up, f.reason_down)]
    assert sorted(FEATURE_REASONS) == sorted(sentences)
    with translation.override("zh-hans"):
        assert [s for s in sentences if translation.gettext(s) == s] == []


# Every visible text of the customer templates is inside a translation tag -----------------------

TRANSLATED_BLOCK = re.compile(
    r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.S
)
TEMPLATE_CODE = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)
MARKUP = re.compile(r"<!--.*?-->|<script\b.*?</script>|<style\b.*?</style>|<[^>]*>", re.S)


def untranslated_text(source: str) -> list[str]:
    """The words left once translated blocks, template code and markup are taken out."""
    text = MARKUP.sub(" ", TEMPLATE_CODE.sub(" ", TRANSLATED_BLOCK.sub(" ", source)))
    return [
        chunk.strip() for chunk in re.split(r"\s{2,}|\n", text) if re.search(r"[A-Za-z]{2,}", chunk)
    ]


def customer_templates():
    for path in sorted((ROOT / "templates").rglob("*")):
        relative = path.relative_to(ROOT / "templates")
        if path.is_dir() or relative.parts[0] == "admin":
            continue
        source = path.read_text()
        if re.search(r'{%\s*extends\s+"admin/', source):  # an admin action page
            continue
        yield str(relative), source


def test_the_check_finds_untranslated_text():
    assert untranslated_text("<p>{% translate 'Hello' %} <b>Goodbye</b></p>") == ["Goodbye"]
    assert untranslated_text("{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}") == []


def test_no_customer_template_has_untranslated_text():
    found = {
        name: words for name, source in customer_templates() if (words := untranslated_text(source))
    }
    assert found == {}

"""Amounts as customers read them, in the active language: the number grouped and with two
decimals as the language writes it (config/formats), and the currency as the language shows it
(English "10,000.00 CNY", Chinese "¥10,000.00"). Parsing amounts is core.money's."""

from django.conf import settings
from django.utils import formats
from django.utils.html import conditional_escape, format_html
from django.utils.translation import pgettext

# The currency's sign, where it has one that customers know; others show their code.
CURRENCY_SIGNS = {"CNY": "¥"}


def currency_sign(currency=None) -> str:
    currency = currency or settings.CURRENCY
    return CURRENCY_SIGNS.get(currency, currency)


def _sign_first() -> bool:
    # Translators: how this language writes an amount of money. Translate with "sign before"
    # for ¥10,000.00; keep "code after" for 10,000.00 CNY. Only these two answers mean anything.
    return pgettext("money style", "code after") == "sign before"


def amount_text(amount) -> str:
    """10,000.00 (grouped by thousands in Chinese too: config/formats)."""
    return formats.number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)


def money_text(amount) -> str:
    """The amount with its currency, as the active language writes it."""
    if _sign_first():
        return f"{currency_sign()}{amount_text(amount)}"
    return f"{amount_text(amount)} {settings.CURRENCY}"


def money_html(amount) -> str:
    """The same, the currency in a <span class="cur"> (the pages' headline figures)."""
    number = conditional_escape(amount_text(amount))
    if _sign_first():
        return format_html('<span class="cur">{}</span>{}', currency_sign(), number)
    return format_html('{} <span class="cur">{}</span>', number, settings.CURRENCY)

"""{% load money %}: `{{ amount|money }}` (10,000.00 CNY, ¥10,000.00 in Chinese) and
`{{ amount|money_big }}`, the same with the currency in a <span class="cur">."""

from django import template

from core.money_format import money_html, money_text

register = template.Library()


@register.filter
def money(amount):
    return "" if amount is None else money_text(amount)


@register.filter
def money_big(amount):
    return "" if amount is None else money_html(amount)

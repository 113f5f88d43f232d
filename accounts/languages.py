"""The language a customer reads pages and notices in (README, "Languages").

A customer's language is `User.language` once known, else the site's default. Whatever writes
text for customers who are not the one making the request (the nightly close's reminders, an
officer's action) writes each customer's text inside `translation.override(language)`; many
customers at once are grouped by language first (`by_language`), so that the override is
entered once per language, not once per customer."""

from collections import defaultdict

from django.conf import settings
from django.utils.translation import get_supported_language_variant

from core.batch import field_in

from .models import User


def language_supported(code) -> str | None:
    """The code of settings.LANGUAGES that `code` names ("zh-Hans", "zh-cn" and "zh-hans" all
    give "zh-hans"), or None."""
    try:
        return get_supported_language_variant(code or "")
    except LookupError:
        return None


def customer_language(customer) -> str:
    return customer.language or settings.LANGUAGE_CODE


def customer_languages(customer_ids) -> dict[int, str]:
    """Customer id -> language, in one query (the ids as one array: a night's reminders name
    thousands of customers)."""
    ids = set(customer_ids)
    known = dict(User.objects.filter(field_in("pk", ids)).exclude(language="")
                 .values_list("pk", "language"))
    return {pk: known.get(pk, settings.LANGUAGE_CODE) for pk in ids}


def by_language(items, *, customer_id) -> dict[str, list]:
    """`items` grouped by their customer's language (`customer_id(item)` names the customer),
    each group in its first order."""
    items = list(items)
    languages = customer_languages(customer_id(item) for item in items)
    groups = defaultdict(list)
    for item in items:
        groups[languages[customer_id(item)]].append(item)
    return dict(groups)

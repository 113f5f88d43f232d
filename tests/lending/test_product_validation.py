"""A product's terms are validated on the model, so the admin's add and change forms and the
product services refuse the same values, each with an error on its field, and store nothing."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.audit import actor_system, audit_trail_of
from core.models import AuditEvent
from lending.models import CreditProduct
from lending.models.products import APR_CEILING
from lending.services import credit_product_create, credit_product_update
from tests.factories import CashLoanProductFactory

pytestmark = pytest.mark.django_db

D = Decimal
ACTOR = actor_system("tests")

GOOD = {
    "code": "cash-plus", "name": "Cash loan plus", "kind": "cash_loan",
    "min_daily_rate": D("0.00020000"), "max_daily_rate": D("0.00050000"),
    "penalty_daily_rate": D("0.00050000"), "allowed_terms": [12, 3, 6],
    "repayment_methods": ["equal_instalment"], "grace_days": 3, "min_amount": D("500.00"),
    "max_amount": D("100000.00"), "apr_cap": D("24.00"), "max_partner_share": D("0.70"),
}

# (field, bad value). JSON fields as Python values: the admin posts them as JSON text.
REFUSED = [
    ("allowed_terms", ["x"]),
    ("allowed_terms", [0]),
    ("allowed_terms", [1000]),
    ("allowed_terms", [61]),
    ("allowed_terms", [-3]),
    ("allowed_terms", []),
    ("allowed_terms", [3, 3]),
    ("allowed_terms", [3.5]),
    ("allowed_terms", [6.0]),
    ("allowed_terms", [True]),
    ("allowed_terms", [None]),
    ("allowed_terms", [[3]]),
    ("allowed_terms", ["x", 3]),
    ("allowed_terms", {"3": 3}),
    ("allowed_terms", "3, 6"),
    ("allowed_terms", 12),
    ("repayment_methods", ["bogus"]),
    ("repayment_methods", ["equal_instalment", "monthly_magic"]),
    ("repayment_methods", []),
    ("repayment_methods", ["equal_instalment", "equal_instalment"]),
    ("repayment_methods", [1]),
    ("repayment_methods", "equal_instalment"),
    ("apr_cap", D("0")),
    ("apr_cap", D("-1")),
    ("apr_cap", D("9999")),
    ("apr_cap", D("36.01")),
    ("min_daily_rate", D("0")),
    ("min_daily_rate", D("-0.0001")),
    ("max_daily_rate", D("0.0001")),  # below the minimum
    ("penalty_daily_rate", D("-0.0005")),
    ("penalty_daily_rate", D("0.00100001")),
    ("penalty_daily_rate", D("0.5")),
    ("grace_days", 31),
    ("grace_days", 365),
    ("grace_days", -1),
    ("max_partner_share", D("0.71")),
]
ACCEPTED = [
    ("allowed_terms", [1, 60]),
    ("allowed_terms", [36]),
    ("repayment_methods", ["interest_first", "equal_principal", "equal_instalment"]),
    ("apr_cap", D("0.01")),
    ("apr_cap", APR_CEILING),
    ("penalty_daily_rate", D("0.001")),
    ("penalty_daily_rate", D("0")),  # a product may charge no penalty interest
    ("grace_days", 0),
    ("grace_days", 30),
]
EDITABLE = {"allowed_terms", "repayment_methods", "apr_cap", "min_daily_rate", "max_daily_rate",
            "penalty_daily_rate", "grace_days", "max_partner_share"}
CHANGEABLE = [case for case in REFUSED if case[0] in EDITABLE]


def case_id(case):
    return f"{case[0]}={case[1]!r}"


def as_posted(value):
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def admin_url(view, *args):
    return reverse(f"admin:lending_creditproduct_{view}", args=args)


def change_form_data(product):
    data = {name: as_posted(getattr(product, name)) for name in (
        "name", "min_daily_rate", "max_daily_rate", "penalty_daily_rate", "allowed_terms",
        "repayment_methods", "grace_days", "apr_cap", "max_partner_share")}
    return {**data, "is_active": "on", "reason": "Board decision"}


# The services -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value"), REFUSED, ids=map(case_id, REFUSED))
def test_create_refuses_with_a_field_error(field, value):
    with pytest.raises(ValidationError) as refused:
        credit_product_create(**{**GOOD, field: value}, actor=ACTOR)
    assert field in refused.value.message_dict
    assert not CreditProduct.objects.filter(code="cash-plus").exists()


@pytest.mark.parametrize(("field", "value"), REFUSED, ids=map(case_id, REFUSED))
def test_update_refuses_with_a_field_error_and_changes_nothing(field, value):
    product = CashLoanProductFactory()
    before = CreditProduct.objects.filter(pk=product.pk).values().get()
    with pytest.raises(ValidationError) as refused:
        credit_product_update(product_id=product.pk, changes={field: value}, reason="Test",
                              actor=ACTOR)
    assert field in refused.value.message_dict
    assert CreditProduct.objects.filter(pk=product.pk).values().get() == before
    assert not audit_trail_of("product", product.pk).exists()


@pytest.mark.parametrize(("field", "value"), ACCEPTED, ids=map(case_id, ACCEPTED))
def test_the_bounds_themselves_are_accepted(field, value):
    product = credit_product_create(**{**GOOD, field: value}, actor=ACTOR)
    product.refresh_from_db()
    assert getattr(product, field) == (sorted(value) if field == "allowed_terms" else value)
    updated = credit_product_update(product_id=CashLoanProductFactory().pk,
                                    changes={field: value}, reason="Test", actor=ACTOR)
    assert getattr(updated, field) == getattr(product, field)


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", 0.5, None, "1e999"])
def test_unparsable_numbers_are_field_errors_too(value):
    with pytest.raises(ValidationError) as refused:
        credit_product_create(**{**GOOD, "apr_cap": value}, actor=ACTOR)
    assert set(refused.value.message_dict) == {"apr_cap"}
    with pytest.raises(ValidationError) as refused:
        credit_product_update(product_id=CashLoanProductFactory().pk,
                              changes={"penalty_daily_rate": value}, reason="Test", actor=ACTOR)
    assert set(refused.value.message_dict) == {"penalty_daily_rate"}


def test_the_database_refuses_what_the_validators_refuse():
    from django.db import IntegrityError, transaction

    product = CashLoanProductFactory()
    for field, value in (("apr_cap", D("9999")), ("apr_cap", D("0")), ("grace_days", 31),
                         ("penalty_daily_rate", D("-0.0001"))):
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditProduct.objects.filter(pk=product.pk).update(**{field: value})


# The admin --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value"), REFUSED, ids=map(case_id, REFUSED))
def test_the_admin_add_form_shows_the_field_error(admin_client, field, value):
    data = {name: as_posted(v) for name, v in {**GOOD, field: value}.items()}
    response = admin_client.post(admin_url("add"), data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not CreditProduct.objects.filter(code="cash-plus").exists()
    assert not AuditEvent.objects.filter(subject_kind="product").exists()


@pytest.mark.parametrize(("field", "value"), CHANGEABLE, ids=map(case_id, CHANGEABLE))
def test_the_admin_change_form_shows_the_field_error(admin_client, field, value):
    product = CashLoanProductFactory()
    before = CreditProduct.objects.filter(pk=product.pk).values().get()
    response = admin_client.post(admin_url("change", product.pk),
                                 {**change_form_data(product), field: as_posted(value)})
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert field in form.errors
    assert f"errors field-{field}" in response.content.decode()
    assert CreditProduct.objects.filter(pk=product.pk).values().get() == before
    assert not audit_trail_of("product", product.pk).exists()


@pytest.mark.parametrize("text", ["not json", "[3, 6", "[" * 5000 + "]" * 5000, "1" * 2000])
def test_the_admin_refuses_text_that_is_not_a_short_json_list(admin_client, text):
    product = CashLoanProductFactory()
    response = admin_client.post(admin_url("change", product.pk),
                                 {**change_form_data(product), "allowed_terms": text})
    assert response.status_code == 200
    assert "allowed_terms" in response.context["adminform"].form.errors


def test_the_admin_accepts_the_bounds(admin_client):
    product = CashLoanProductFactory()
    changes = {"allowed_terms": "[60, 1]", "apr_cap": "36", "grace_days": "30",
               "penalty_daily_rate": "0.001"}
    response = admin_client.post(admin_url("change", product.pk),
                                 {**change_form_data(product), **changes})
    assert response.status_code == 302, response.context["adminform"].form.errors
    product.refresh_from_db()
    assert (product.allowed_terms, product.apr_cap, product.grace_days,
            product.penalty_daily_rate) == ([1, 60], D("36.00"), 30, D("0.00100000"))

"""The demo seeding (`make run`) goes through the real services end to end: a simulated year,
a champion trained on it, demo customers decided by it, loans aged by the nightly close."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from core.audit import audit_trail_of
from core.calendar import business_date_today
from core.models import AuditEvent
from lending.models import CreditLine, Loan
from lending.selectors import ledger_principal_of, unbalanced_entry_ids
from risk.models import CreditDecision, ModelPromotion, ModelStatus, ModelVersion
from risk.selectors import products_open_for_application

# Seeding simulates a population, trains both cards and ages the demo by 150 nightly closes:
# over two minutes, so it runs with `-m slow` (`make run` does the same seeding).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_seed_demo_decides_every_demo_customer_with_a_trained_champion():
    out = io.StringIO()
    call_command("seed_demo", population=300, stdout=out)

    champion = ModelVersion.objects.get(card="application", status=ModelStatus.CHAMPION)
    assert ModelPromotion.objects.filter(model_version=champion).exists()
    assert champion.metrics["auc"] > 0.6
    # The B-card is champion too, so that the next nights rescore the demo's lines.
    assert ModelVersion.objects.filter(card="behaviour", status=ModelStatus.CHAMPION).exists()
    demo = User.objects.get(username="demo")
    decision = CreditDecision.objects.get(customer=demo)
    line = CreditLine.objects.get(customer=demo, product__code="cash")
    assert (decision.outcome, decision.model_version, decision.line) == ("approved", champion,
                                                                         line)
    assert line.credit_limit == decision.credit_limit and decision.reasons
    demo_customers = User.objects.filter(profile__isnull=False).exclude(
        username__startswith="sim")
    assert demo_customers.count() == 23
    assert CreditDecision.objects.filter(customer__in=demo_customers).count() == 23

    # Customers apply for the demo's product only; the simulation's is closed to them.
    assert [p.code for p in products_open_for_application()] == ["cash"]
    assert business_date_today() == timezone.localdate()
    assert unbalanced_entry_ids() == []
    for loan in Loan.objects.filter(line__product__code="cash"):
        assert ledger_principal_of(loan) == loan.outstanding_principal
    assert "demo / demo-pass-2026" in out.getvalue()

    # Every state change of the seeding is on an intact audit chain: each loan's starts with
    # its origination, each demo customer's with their decision.
    verified = io.StringIO()
    call_command("audit_verify", stdout=verified)
    assert "verified" in verified.getvalue()
    for loan in Loan.objects.all():
        assert audit_trail_of("loan", loan.pk).first().action == "loan.originate"
    assert audit_trail_of("customer", demo.pk).first().action == "decision.make"
    assert AuditEvent.objects.filter(subject_kind="close", action="close.run").exists()

    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert "already present" in again.getvalue()
    assert CreditDecision.objects.filter(customer__in=demo_customers).count() == 23

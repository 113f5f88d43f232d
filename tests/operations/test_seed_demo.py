"""The demo seeding (`make run`) goes through the real services end to end: a simulated year,
a champion trained on it, demo customers decided by it, loans aged by the nightly close."""

import io
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from accounts.roles import ROLE_PERMISSIONS
from core.audit import audit_trail_of
from core.calendar import business_date_today
from core.models import ApprovalRequest, ApprovalStatus, AuditEvent
from debt_collection.models import (
    CaseStatus,
    CollectionCase,
    CollectionContact,
    HardshipRequest,
    PromiseToPay,
)
from lending.models import CreditLine, Loan, PenaltyWaiver
from lending.selectors import ledger_principal_of, unbalanced_entry_ids
from risk.models import CreditDecision, ModelPromotion, ModelStatus, ModelVersion
from risk.selectors import products_open_for_application
from tests.operations.test_demo_pay_later import pay_later_stories_check

# Seeding simulates a population, trains both cards and ages the demo by 150 nightly closes:
# over two minutes, so it runs with `-m slow` (`make run` does the same seeding).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_seed_demo_decides_every_demo_customer_with_a_trained_champion(client):
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

    # The back office at work while the demo aged (operations/demo_back_office.py).
    staff = User.objects.filter(is_staff=True, is_superuser=False)
    assert set(staff.values_list("groups__name", flat=True)) == set(ROLE_PERMISSIONS)
    for login in ["senior / senior-pass-2026", "collections / collections-pass-2026",
                  "auditor / auditor-pass-2026"]:
        assert login in out.getvalue()
    # The close gave every open case to one of the two collectors, never to a manager.
    cases = CollectionCase.objects.filter(status=CaseStatus.OPEN)
    assert set(cases.values_list("assigned_to__username", flat=True)) == {"collector",
                                                                          "collector2"}
    assert Counter(CollectionContact.objects.values_list("outcome", flat=True)).keys() == {
        "no_answer", "promised"}
    # Every other promise kept (the customer paid it the day before its date), the rest
    # broken by the close; at most the newest still pending.
    promises = Counter(PromiseToPay.objects.values_list("status", flat=True))
    assert promises["kept"] >= 1 and promises["broken"] >= 1
    assert abs(promises["kept"] - promises["broken"]) <= 1 + promises["pending"]
    assert sorted(HardshipRequest.objects.values_list("status", flat=True)) == [
        "approved", "rejected", "submitted"]
    assert HardshipRequest.objects.values("customer").distinct().count() == 3
    approved = HardshipRequest.objects.get(status="approved")
    assert approved.extension.extra_months == 3 and approved.customer.username == "demo"
    waiver = PenaltyWaiver.objects.get()
    assert Decimal("0") < waiver.amount <= Decimal("300.00")
    # The officer's limit cut waits for a senior officer; the line still has its old limit.
    pending = ApprovalRequest.objects.get(status=ApprovalStatus.REQUESTED)
    assert (pending.kind, pending.maker.username) == ("line.limit_lower", "officer")
    line = CreditLine.objects.get(pk=pending.subject_id)
    assert line.credit_limit == Decimal(pending.payload["old_limit"]) > Decimal(
        pending.payload["new_limit"])
    # Every chart on the admin index has data: the risk manager sees the risk, collections
    # and model dashboards, the collections manager theirs with the book by bucket.
    for username, charts in [("riskmanager", 8), ("collections", 4)]:
        client.force_login(User.objects.get(username=username))
        index = client.get("/admin/").content.decode()
        assert "No data yet" not in index and index.count("<svg") >= charts, username

    # The pay-later customers' stories (operations/demo_pay_later.py), the demo's among them.
    pay_later_stories_check()

    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert "already present" in again.getvalue()
    assert CreditDecision.objects.filter(customer__in=demo_customers).count() == 23

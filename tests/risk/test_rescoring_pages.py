"""Rescoring as people see it: the customer's dashboard explains each change, officers and
managers read the reviews and distributions (collectors do not), the drift alert stands on the
risk manager's admin index, and a B-card candidate is marked challenger with a reason."""

from datetime import date

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts.roles import COLLECTOR, RISK_MANAGER, RISK_OFFICER
from core.audit import audit_trail_of
from core.close import close_step_named
from lending.models import RateChange
from risk.errors import RiskError
from risk.models import LineReview, ModelStatus, ModelVersion, ScoreDistribution
from risk.services.model_watch import score_distributions_record
from risk.services.registry import model_version_challenger_set
from tests.factories import set_business_date
from tests.risk.bcard_champion import bcard_install
from tests.risk.test_admin import admin_url, messages_of, register, staff_client
from tests.risk.test_rescoring import _customer_line, _draw

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 22)


@pytest.fixture
def reviewed(bank):
    """One customer 40 days past due (limit cut to what is drawn) and one repriced."""
    bcard_install(calibration={"a": 1.0, "b": 0.0})
    overdue = _customer_line()
    _draw(overdue)
    clean = _customer_line()
    set_business_date(DAY)
    with transaction.atomic():
        close_step_named("rescore_lines").run(DAY, None, None)
    score_distributions_record(day=DAY)
    return overdue, clean


def test_the_dashboard_lists_each_change_with_its_reason(reviewed):
    overdue, clean = reviewed
    client = Client()
    client.force_login(overdue.customer)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="line-changes"' in html
    assert "Limit 20,000.00 → <strong>6,000.00</strong>" in html
    assert "we cannot lend you more for now" in html
    client.force_login(clean.customer)
    html = client.get(reverse("dashboard")).content.decode()
    assert "Daily rate 0.05% → <strong>0.02%</strong>" in html
    assert RateChange.objects.get(line=clean).reason in html


@pytest.mark.parametrize(("role", "model", "status"), [
    (RISK_OFFICER, LineReview, 200),
    (RISK_MANAGER, LineReview, 200),
    (RISK_MANAGER, ScoreDistribution, 200),
    (RISK_OFFICER, ScoreDistribution, 403),
    (COLLECTOR, LineReview, 403),
    (RISK_OFFICER, RateChange, 200),
])
def test_each_role_reaches_its_rescoring_pages(reviewed, role, model, status):
    client, _user = staff_client(role)
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == status
    if status == 200:
        obj = model.objects.first()
        assert client.get(admin_url(model, "change", obj.pk)).status_code == 200


def test_a_review_page_shows_the_model_probability_and_the_customers_words(reviewed):
    overdue, _clean = reviewed
    client, _user = staff_client(RISK_OFFICER)
    review = LineReview.objects.get(line=overdue)
    html = client.get(admin_url(LineReview, "change", review.pk)).content.decode()
    assert "behaviour v1" in html and str(review.probability) in html
    assert "we cannot lend you more for now" in html


def test_the_drift_alert_is_on_the_risk_managers_index_only(reviewed):
    distribution = ScoreDistribution.objects.get()
    assert distribution.psi_status in ("warning", "alert")  # two lines against ten buckets
    manager, _user = staff_client(RISK_MANAGER)
    html = manager.get(reverse("admin:index")).content.decode()
    assert 'data-testid="drift-alerts"' in html and f"{distribution.psi:.3f}" in html
    officer, _user = staff_client(RISK_OFFICER)
    assert 'data-testid="drift-alerts"' not in officer.get(reverse("admin:index")).content.decode()


def test_a_risk_manager_marks_a_challenger_with_a_reason(reviewed):
    client, manager = staff_client(RISK_MANAGER)
    candidate = bcard_install(role="candidate")
    url = admin_url(ModelVersion, "changelist")
    form = client.post(url, {"action": "mark_challenger", "_selected_action": [candidate.pk]})
    assert form.status_code == 200 and "Mark as challenger" in form.content.decode()
    refused = client.post(url, {"action": "mark_challenger", "_selected_action": [candidate.pk],
                                "apply": "yes", "reason": "  "})
    assert refused.status_code == 200
    candidate.refresh_from_db()
    assert candidate.status == ModelStatus.CANDIDATE
    done = client.post(url, {"action": "mark_challenger", "_selected_action": [candidate.pk],
                             "apply": "yes", "reason": "Trained on six more months"})
    assert done.status_code == 302 and "in the shadow" in messages_of(done)[0]
    candidate.refresh_from_db()
    assert candidate.status == ModelStatus.CHALLENGER
    event = list(audit_trail_of("model", "behaviour"))[-1]
    assert (event.action, event.actor_id, event.payload["reason"]) == (
        "model.challenger", str(manager.pk), "Trained on six more months")
    page = client.get(admin_url(ModelVersion, "change", candidate.pk)).content.decode()
    assert "Challenger against champion" in page


def test_an_application_model_cannot_be_a_challenger(reviewed):
    with pytest.raises(RiskError, match="Only a B-card"):
        model_version_challenger_set(model_version_id=register(3).pk, reason="x")

"""A risk manager's admin index in a real browser: the dashboards' charts are drawn (SVG with
bars and points) and fit the screen, on a phone and on a desktop."""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from playwright.sync_api import expect

from debt_collection.models import BucketSnapshot
from operations.models import VintageSnapshot
from risk.models import CreditDecision, ModelVersion, ScoreDistribution
from tests.factories import CashLoanProductFactory, UserFactory, set_business_date

pytestmark = [pytest.mark.browser]

PERMISSIONS = [("lending", "view_loan"), ("risk", "view_creditdecision"),
               ("risk", "view_scoredistribution")]


def a_book_with_history():
    product = CashLoanProductFactory()
    for day, principal in ((date(2026, 1, 31), ("90000", "5000", "2000")),
                           (date(2026, 2, 28), ("88000", "4000", "2500"))):
        for bucket, amount in zip(("current", "M1", "M2"), principal, strict=True):
            BucketSnapshot.objects.create(business_date=day, product=product, bucket=bucket,
                                          loans=3, outstanding_principal=Decimal(amount))
        VintageSnapshot.objects.create(business_date=day, product=product,
                                       vintage=date(2026, 1, 1), loans=20, principal=Decimal(20000),
                                       loans_30_plus=day.month, principal_30_plus=Decimal(900))
        CreditDecision.objects.create(
            customer=UserFactory(), product=product, outcome="approved", inputs={},
            policy_results=[], grade="B", credit_limit=Decimal(10000),
            daily_rate=Decimal("0.0005"), business_date=day, elapsed_ms=1.0)
    model = ModelVersion.objects.create(card="behaviour", version=1, status="champion",
                                        feature_names=[], feature_hash="x", booster=b"")
    for day, psi in ((date(2026, 2, 27), 0.04), (date(2026, 2, 28), 0.12)):
        ScoreDistribution.objects.create(model_version=model, role="champion", business_date=day,
                                         lines=50, bucket_counts=[5] * 10, psi=psi)
    set_business_date(date(2026, 3, 1))


def test_a_risk_managers_index_draws_the_dashboards(live_server, transactional_db, phone_page):
    a_book_with_history()
    manager = UserFactory(username="riskmanager", is_staff=True)
    manager.user_permissions.add(*[Permission.objects.get(content_type__app_label=app,
                                                          codename=codename)
                                   for app, codename in PERMISSIONS])
    client = Client()
    client.force_login(manager)
    page = phone_page
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                               "url": live_server.url}])

    page.goto(f"{live_server.url}/admin/")
    risk = page.get_by_test_id("dashboard-risk")
    expect(risk.locator("svg.chart")).to_have_count(5)
    models = page.get_by_test_id("dashboard-models")
    expect(models.locator("svg.chart circle.point")).to_have_count(2)
    assert page.get_by_test_id("dashboard-collections").count() == 0
    for width, height in ((390, 844), (1280, 900)):
        page.set_viewport_size({"width": width, "height": height})
        # The outstanding chart: the five buckets stacked on the one product (M3, M4 empty).
        outstanding = page.get_by_test_id("figure-outstanding").locator("svg.chart")
        expect(outstanding.locator("rect.bar")).to_have_count(5 * 1)
        box = outstanding.bounding_box()
        assert 0 < box["width"] <= width and box["height"] > 100
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(risk.locator("svg.chart circle.point").first).to_be_attached()
    page.get_by_test_id("figure-approval-rate").get_by_text("The figures").click()
    expect(page.get_by_test_id("figure-approval-rate").locator("tbody tr")).to_have_count(2)

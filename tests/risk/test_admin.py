"""The risk back office: models and decisions shown and never edited, the risk manager's
"Promote to champion…" action, and the officers' block list."""

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
import xgboost as xgb
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import COLLECTOR, RISK_MANAGER, RISK_OFFICER
from accounts.services import staff_user_create
from core.audit import audit_trail_of
from risk.features.application import APPLICATION_FEATURE_NAMES, APPLICATION_FEATURES_HASH
from risk.models import (
    BlockListEntry,
    CreditDecision,
    IncomeVerification,
    ModelPromotion,
    ModelStatus,
    ModelVersion,
    RescoringNight,
    SimulatedCustomer,
)
from risk.services.registry import model_version_promote, model_version_register
from tests.factories import CashLoanProductFactory, UserFactory
from tests.risk.champion import applicant

pytestmark = pytest.mark.django_db

RECORDS = [ModelVersion, ModelPromotion, CreditDecision, SimulatedCustomer, IncomeVerification,
           RescoringNight]
# A valid number (Beijing, Dongcheng; born 1990-03-07) and the same with a lower-case x.
BLOCKED = "110101199003074514"
BLOCKED_X = "11010519491231002X"


def label(model):
    return model._meta.label


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def register(seed=1, card="application", auc=0.8):
    rng = np.random.default_rng(seed)
    x = rng.random((200, len(APPLICATION_FEATURE_NAMES)))
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2, "seed": seed},
                        xgb.DMatrix(x, label=x[:, 0] > 0.5), num_boost_round=5)
    return model_version_register(
        card=card, booster=booster, feature_names=APPLICATION_FEATURE_NAMES,
        feature_hash=APPLICATION_FEATURES_HASH, training_summary={"rows": 200},
        metrics={"auc": auc, "ceiling_auc": 0.85, "auc_share_of_ceiling": auc / 0.85},
        calibration={"a": 1.0, "b": 0.0},
        grade_cutoffs=[0.03, 0.06, 0.12, 0.25])


def staff_client(role, username=None):
    user = staff_user_create(username=username or role.lower().replace(" ", "-"), password="x",
                             role=role)
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def manager_client():
    return staff_client(RISK_MANAGER)


@pytest.fixture
def officer_client():
    return staff_client(RISK_OFFICER)


@pytest.fixture
def champion_and_candidate():
    first, second = register(1, auc=0.80), register(2, auc=0.83)
    model_version_promote(model_version_id=first.pk, reason="first model")
    first.refresh_from_db()
    return first, second


@pytest.fixture
def world(champion_and_candidate):
    """A row of every risk model."""
    champion, _candidate = champion_and_candidate
    customer = UserFactory(username="applicant")
    CreditDecision.objects.create(
        customer=customer, product=CashLoanProductFactory(), model_version=champion,
        outcome="approved", inputs={"monthly_income": 12000.0, "age_years": 30.0},
        policy_results=[{"name": "adult", "passed": True, "reason": ""}],
        probability_of_default=Decimal("0.031000"), grade="B", credit_limit=Decimal("20000"),
        daily_rate=Decimal("0.00035"), apr=Decimal("12.77"),
        reasons=["You pay your bills on time."],
        contributions={"monthly_income": -0.4, "age_years": 0.1},
        business_date=date(2026, 1, 31), elapsed_ms=4.2)
    BlockListEntry.objects.create(id_number=BLOCKED, full_name="Zhang San",
                                  birth_date=date(1990, 3, 7), reason="Fraud")
    SimulatedCustomer.objects.create(user=customer, seed=1, true_probability=0.02)
    IncomeVerification.objects.create(customer=customer, monthly_income=Decimal("12000"),
                                      declared_income=Decimal("12000"), evidence="Payslips",
                                      verified_by=UserFactory(username="verifier"),
                                      business_date=date(2026, 1, 31))
    RescoringNight.objects.create(business_date=date(2026, 1, 30), every_line=True,
                                  reason="the month's last business date", customers=1,
                                  champion=champion, fingerprint="0" * 64,
                                  planned_at=timezone.now())


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def actions_on(changelist):
    action_form = changelist.context["action_form"]
    return dict(action_form.fields["action"].choices) if action_form else {}


# Every model ------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", [*RECORDS, BlockListEntry], ids=label)
def test_changelist_and_change_page_render(admin_client, world, model):
    assert admin.site.is_registered(model)
    obj = model._default_manager.order_by("pk").first()
    assert admin_client.get(admin_url(model, "changelist")).context["cl"].result_count >= 1
    change = admin_client.get(admin_url(model, "change", obj.pk))
    assert change.status_code == 200
    assert change.context["original"] == obj


@pytest.mark.parametrize("model", [*RECORDS, BlockListEntry], ids=label)
@pytest.mark.parametrize("term", ["applicant", "12", "99999999999999999999999", "'"])
def test_searching_never_fails(admin_client, world, model, term):
    assert admin_client.get(admin_url(model, "changelist"), {"q": term}).status_code == 200


@pytest.mark.parametrize("model", RECORDS, ids=label)
def test_records_cannot_be_added_changed_or_deleted(admin_client, world, model):
    obj = model._default_manager.order_by("pk").first()
    page = admin_client.get(admin_url(model, "change", obj.pk))
    assert not page.context["has_change_permission"]
    assert not page.context["has_delete_permission"]
    assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert admin_client.post(admin_url(model, "change", obj.pk), {}).status_code == 403
    assert admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert "delete_selected" not in actions_on(admin_client.get(admin_url(model, "changelist")))
    assert model._default_manager.filter(pk=obj.pk).exists()


def test_a_model_version_shows_its_scores_and_the_boosters_size_not_its_bytes(admin_client,
                                                                           world):
    version = ModelVersion.objects.get(version=2)
    changelist = admin_client.get(admin_url(ModelVersion, "changelist")).content.decode()
    assert "0.8300" in changelist and "97.6%" in changelist
    page = admin_client.get(admin_url(ModelVersion, "change", version.pk))
    html = page.content.decode()
    assert "booster" not in page.context["adminform"].form.fields
    assert f"{filesizeformat(len(bytes(version.booster)))} (XGBoost UBJSON)" in html


def test_a_decision_page_shows_its_rules_inputs_and_reasons(admin_client, world):
    decision = CreditDecision.objects.get()
    html = admin_client.get(admin_url(CreditDecision, "change", decision.pk)).content.decode()
    assert "You pay your bills on time." in html
    assert "Monthly income" in html and "12000.0" in html
    assert "-0.4000" in html
    assert "adult" in html and "passed" in html


def test_decisions_are_found_by_the_customers_exact_username(admin_client, world):
    url = admin_url(CreditDecision, "changelist")
    assert admin_client.get(url, {"q": "applicant"}).context["cl"].result_count == 1
    assert admin_client.get(url, {"q": "applic"}).context["cl"].result_count == 0


# Promote to champion… ---------------------------------------------------------------------------

def start_promote(client, version):
    return client.post(admin_url(ModelVersion, "changelist"), {
        "action": "promote", "index": 0, "_selected_action": [version.pk]})


def submit_promote(client, version, reason):
    return client.post(admin_url(ModelVersion, "changelist"), {
        "action": "promote", "_selected_action": [version.pk], "apply": "yes",
        "reason": reason})


def test_a_risk_manager_promotes_with_a_reason_and_it_is_recorded(manager_client,
                                                                  champion_and_candidate):
    client, manager = manager_client
    first, second = champion_and_candidate
    assert actions_on(client.get(admin_url(ModelVersion, "changelist")))["promote"] == (
        "Promote to champion…")

    form_page = start_promote(client, second)
    assert form_page.status_code == 200
    assert "admin/risk/modelversion/promote.html" in [t.name for t in form_page.templates]
    html = form_page.content.decode()
    assert 'data-testid="candidate-auc">0.8300' in html
    assert 'data-testid="champion-auc">0.8000' in html
    assert f'name="_selected_action" value="{second.pk}"' in html
    assert ModelPromotion.objects.count() == 1

    response = submit_promote(client, second, "Higher held-out AUC on 2026-01 data")
    assert response.status_code == 302
    assert messages_of(response) == [
        f"{ModelVersion.objects.get(pk=second.pk)} is now the champion "
        f"(it replaces application v1): Higher held-out AUC on 2026-01 data"]
    promotion = ModelPromotion.objects.latest("pk")
    assert (promotion.model_version_id, promotion.previous_champion_id, promotion.promoted_by,
            promotion.reason) == (second.pk, first.pk, manager,
                                  "Higher held-out AUC on 2026-01 data")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (ModelStatus.RETIRED, ModelStatus.CHAMPION)


def test_a_promotion_needs_a_reason(manager_client, champion_and_candidate):
    client, _manager = manager_client
    _first, second = champion_and_candidate
    response = submit_promote(client, second, "   ")
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    second.refresh_from_db()
    assert second.status == ModelStatus.CANDIDATE


def test_a_refused_promotion_is_shown_on_the_form(manager_client, champion_and_candidate):
    client, _manager = manager_client
    first, _second = champion_and_candidate
    response = submit_promote(client, first, "again")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [f"{first} is already the champion."]
    assert ModelPromotion.objects.count() == 1


def test_a_csv_model_cannot_be_promoted(manager_client):
    client, _manager = manager_client
    csv_model = register(3, card="csv")
    response = submit_promote(client, csv_model, "try")
    assert "cannot become a champion" in response.context["form"].non_field_errors()[0]
    csv_model.refresh_from_db()
    assert csv_model.status == ModelStatus.CANDIDATE


def test_one_version_at_a_time(manager_client, champion_and_candidate):
    client, _manager = manager_client
    response = client.post(admin_url(ModelVersion, "changelist"), {
        "action": "promote", "index": 0,
        "_selected_action": [v.pk for v in champion_and_candidate]})
    assert messages_of(response) == ["Select exactly one model version to promote."]
    assert ModelPromotion.objects.count() == 1


def test_a_risk_officer_may_not_promote(officer_client, champion_and_candidate):
    client, officer = officer_client
    _first, second = champion_and_candidate
    assert not officer.has_perm("risk.promote_modelversion")
    # Officers do not see the models at all, so neither the list nor the action reach them.
    assert client.get(admin_url(ModelVersion, "changelist")).status_code == 403
    assert submit_promote(client, second, "I think so").status_code == 403
    second.refresh_from_db()
    assert second.status == ModelStatus.CANDIDATE
    assert ModelPromotion.objects.count() == 1


def test_a_viewer_without_the_promote_permission_is_not_offered_the_action(
        champion_and_candidate):
    client, user = staff_client(RISK_MANAGER, username="read-only-manager")
    user.groups.clear()
    user.user_permissions.add(Permission.objects.get(codename="view_modelversion"))
    _first, second = champion_and_candidate
    assert "promote" not in actions_on(client.get(admin_url(ModelVersion, "changelist")))
    response = submit_promote(client, second, "sneaky")
    # An action the user may not run is not a choice: the list comes back, nothing changes.
    assert response.status_code == 200
    second.refresh_from_db()
    assert second.status == ModelStatus.CANDIDATE


# Roles ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "model", "status"), [
    (RISK_MANAGER, ModelVersion, 200),
    (RISK_MANAGER, ModelPromotion, 200),
    (RISK_MANAGER, CreditDecision, 200),
    (RISK_MANAGER, BlockListEntry, 200),
    (RISK_MANAGER, SimulatedCustomer, 200),
    (RISK_OFFICER, CreditDecision, 200),
    (RISK_OFFICER, BlockListEntry, 200),
    (RISK_OFFICER, ModelVersion, 403),
    (RISK_OFFICER, SimulatedCustomer, 403),
    (COLLECTOR, CreditDecision, 403),
    (COLLECTOR, BlockListEntry, 403),
    (COLLECTOR, ModelVersion, 403),
])
def test_each_role_reaches_its_risk_pages(world, role, model, status):
    client, _user = staff_client(role)
    assert client.get(admin_url(model, "changelist")).status_code == status


def test_collectors_see_no_risk_section(world):
    client, _user = staff_client(COLLECTOR)
    apps = {app["app_label"] for app in client.get(reverse("admin:index")).context["app_list"]}
    assert "risk" not in apps


# The block list ---------------------------------------------------------------------------------

def block(client, **fields):
    return client.post(admin_url(BlockListEntry, "add"), {
        "customer": "", "id_number": BLOCKED, "full_name": "Zhang San",
        "birth_date": "1990-03-07", "reason": "Fraud", **fields})


@pytest.mark.parametrize("role", [RISK_OFFICER, RISK_MANAGER])
def test_officers_add_to_the_block_list_as_themselves(role):
    client, user = staff_client(role)
    other = UserFactory()
    response = block(client, id_number=" 11010519491231002x ", full_name="  Wang   Fang ",
                     birth_date="1949-12-31", reason="Identity fraud", added_by=other.pk)
    assert response.status_code == 302
    entry = BlockListEntry.objects.get()
    # Stored as profiles store numbers: a lower-case x blocks the person it was typed for.
    assert (entry.id_number, entry.full_name, entry.birth_date, entry.reason, entry.added_by,
            entry.customer) == (BLOCKED_X, "Wang Fang", date(1949, 12, 31), "Identity fraud",
                                user, None)
    event = audit_trail_of("block_list", BLOCKED_X).get()
    assert (event.action, event.payload["full_name"], event.payload["birth_date"]) == (
        "block_list.add", "Wang Fang", "1949-12-31")


def test_the_same_person_cannot_be_blocked_twice(officer_client):
    client, _officer = officer_client
    assert block(client).status_code == 302
    again = block(client, full_name="Another Name")
    assert again.status_code == 200
    assert "id_number" in again.context["adminform"].form.errors
    assert BlockListEntry.objects.count() == 1


def test_a_block_needs_a_reason(officer_client):
    client, _officer = officer_client
    response = block(client, reason="  ")
    assert "reason" in response.context["adminform"].form.errors
    assert not BlockListEntry.objects.exists()


@pytest.mark.parametrize("fields, field, message", [
    ({"id_number": "1"}, "id_number", "An identity number has 18 characters"),
    ({"id_number": "not a number at all"}, "id_number", "An identity number has 18 characters"),
    ({"id_number": "110101199003074518"}, "id_number", "last character does not match"),
    ({"id_number": "999999199003074515"}, "id_number",
     "begins with 999999, which is not the code of any county or city"),
    ({"id_number": ""}, "id_number", "An identity number is required."),
    ({"full_name": "  "}, "full_name", "The person's full name is required."),
    ({"birth_date": ""}, "birth_date", "The person's date of birth is required."),
    ({"birth_date": "1990-03-08"}, "birth_date",
     "This identity number belongs to someone born on 1990-03-07, not on 1990-03-08."),
])
def test_the_block_list_refuses_what_is_not_a_person(officer_client, fields, field, message):
    client, _officer = officer_client
    response = block(client, **fields)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(message in error for error in errors[field]), errors
    assert not BlockListEntry.objects.exists()


def test_a_customer_is_blocked_from_their_profile(officer_client):
    client, officer = officer_client
    customer = applicant(user=UserFactory(username="lin.wei"), full_name="Lin Wei")
    profile = customer.profile
    response = block(client, customer="lin.wei", id_number="", full_name="", birth_date="")
    assert response.status_code == 302
    entry = BlockListEntry.objects.get()
    assert (entry.id_number, entry.full_name, entry.birth_date, entry.customer,
            entry.added_by) == (profile.id_number, "Lin Wei", profile.birth_date, customer,
                                officer)


def test_a_customers_block_must_agree_with_their_profile(officer_client):
    client, _officer = officer_client
    applicant(user=UserFactory(username="lin.wei"), full_name="Lin Wei")
    response = block(client, customer="lin.wei", id_number="", full_name="Someone Else",
                     birth_date="")
    assert response.context["adminform"].form.errors["full_name"] == [
        "This differs from lin.wei's profile (Lin Wei)."]
    response = block(client, customer="nobody", id_number="", full_name="", birth_date="")
    assert response.context["adminform"].form.errors["customer"] == [
        "There is no customer with this username."]
    no_profile = UserFactory(username="no.profile")
    response = block(client, customer=no_profile.username, id_number="", full_name="",
                     birth_date="")
    assert response.context["adminform"].form.errors["customer"] == [
        "no.profile has no profile to block."]
    assert not BlockListEntry.objects.exists()


def test_an_officer_lifts_a_block_but_never_edits_one(officer_client, world):
    client, _officer = officer_client
    entry = BlockListEntry.objects.get()
    assert client.post(admin_url(BlockListEntry, "change", entry.pk),
                       {"id_number": "1", "reason": "x"}).status_code == 403
    entry.refresh_from_db()
    assert entry.id_number == BLOCKED
    assert client.post(admin_url(BlockListEntry, "delete", entry.pk),
                       {"post": "yes"}).status_code == 302
    assert not BlockListEntry.objects.exists()


def test_a_collector_cannot_touch_the_block_list(world):
    client, _user = staff_client(COLLECTOR)
    entry = BlockListEntry.objects.get()
    assert client.post(admin_url(BlockListEntry, "add"),
                       {"id_number": "1", "reason": "x"}).status_code == 403
    assert client.post(admin_url(BlockListEntry, "delete", entry.pk),
                       {"post": "yes"}).status_code == 403
    assert BlockListEntry.objects.count() == 1


# Verify the customer's income… ------------------------------------------------------------------

def verifier_client():
    """A risk officer: the role may verify incomes (accounts/roles.py)."""
    return staff_client(RISK_OFFICER, username="income-officer")


def submit_verify(client, decision, income, evidence="Six months of payslips"):
    return client.post(admin_url(CreditDecision, "changelist"), {
        "action": "verify_income", "_selected_action": [decision.pk], "apply": "yes",
        "monthly_income": income, "evidence": evidence})


def test_an_officer_verifies_an_income_from_a_decision_and_it_is_recorded(world):
    client, officer = verifier_client()
    decision = CreditDecision.objects.get()
    applicant(user=decision.customer, monthly_income=Decimal("200000.00"))
    form_page = client.post(admin_url(CreditDecision, "changelist"), {
        "action": "verify_income", "index": 0, "_selected_action": [decision.pk]})
    assert form_page.status_code == 200
    assert "risk/verify_income.html" in [t.name for t in form_page.templates]

    response = submit_verify(client, decision, "150000.00")
    assert response.status_code == 302
    assert messages_of(response) == [
        "Verified a monthly income of 150,000.00 for applicant (declared 200,000.00); their "
        "next decision uses it."]
    verification = IncomeVerification.objects.latest("pk")
    assert (verification.customer, verification.monthly_income, verification.declared_income,
            verification.verified_by, verification.evidence) == (
        decision.customer, Decimal("150000.00"), Decimal("200000.00"), officer,
        "Six months of payslips")
    event = audit_trail_of("customer", decision.customer.pk).last()
    assert (event.action, event.actor_id, event.payload["monthly_income"]) == (
        "income.verify", str(officer.pk), "150000.00")


def test_a_verification_needs_evidence_and_a_profile(world):
    client, _officer = verifier_client()
    decision = CreditDecision.objects.get()
    response = submit_verify(client, decision, "9000", evidence=" ")
    assert "evidence" in response.context["form"].errors
    response = submit_verify(client, decision, "9000")  # the customer has no profile
    assert response.context["form"].non_field_errors() == [
        "applicant has no profile, so no declared income to verify."]
    assert IncomeVerification.objects.count() == 1  # the world's own


def test_staff_without_the_permission_are_not_offered_income_verification(world):
    """A staff member who reads decisions but may not verify incomes (no role is like that
    today: officers and managers may, collectors see no decisions at all)."""
    client, user = staff_client(None, username="reader")
    user.user_permissions.add(Permission.objects.get(codename="view_creditdecision"))
    assert "verify_income" not in actions_on(client.get(admin_url(CreditDecision,
                                                                  "changelist")))
    before = IncomeVerification.objects.count()
    submit_verify(client, CreditDecision.objects.get(), "9000")
    assert IncomeVerification.objects.count() == before


def test_a_decision_page_shows_the_income_it_used_and_why(admin_client, world):
    decision = CreditDecision.objects.get()
    CreditDecision.objects.filter(pk=decision.pk).update(
        income_declared=Decimal("200000"), income_used=Decimal("8000"),
        income_basis="unverified_change", income_note="The lower figure, 8,000.00, is used.")
    html = admin_client.get(admin_url(CreditDecision, "change", decision.pk)).content.decode()
    assert "200000.00" in html and "8000.00" in html
    assert "Lower figure: a large change not yet verified" in html
    assert "The lower figure, 8,000.00, is used." in html

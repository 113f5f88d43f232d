"""`promote_model`: the explicit, recorded act that makes a version serve."""

from io import StringIO

import numpy as np
import pytest
import xgboost as xgb
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from accounts.roles import RISK_MANAGER, RISK_OFFICER
from risk.features.application import APPLICATION_FEATURE_NAMES, APPLICATION_FEATURES_HASH
from risk.models import ModelPromotion, ModelStatus, ModelVersion
from risk.services.registry import model_version_register
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def register(card="application", seed=1):
    rng = np.random.default_rng(seed)
    x = rng.random((200, len(APPLICATION_FEATURE_NAMES)))
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2},
                        xgb.DMatrix(x, label=x[:, 0] > 0.5), num_boost_round=3)
    return model_version_register(card=card, booster=booster,
                                  feature_names=APPLICATION_FEATURE_NAMES,
                                  feature_hash=APPLICATION_FEATURES_HASH, training_summary={},
                                  metrics={}, calibration={"a": 1.0, "b": 0.0},
                                  grade_cutoffs=[0.03, 0.06, 0.12, 0.25])


def promote(*args):
    out = StringIO()
    call_command("promote_model", *args, stdout=out)
    return out.getvalue()


def staff(role):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


def test_promotion_by_a_risk_manager_is_recorded_and_replaces_the_champion():
    manager = staff(RISK_MANAGER)
    first, second = register(seed=1), register(seed=2)
    assert promote("--card", "application", "--version", "1",
                   "--reason", "first model") == "application v1 is now the champion.\n"
    printed = promote("--card", "application", "--version", "2", "--reason", "higher AUC",
                      "--by", manager.username)
    assert printed == "application v2 is now the champion, replacing v1.\n"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (ModelStatus.RETIRED, ModelStatus.CHAMPION)
    latest = ModelPromotion.objects.latest("pk")
    assert (latest.model_version, latest.previous_champion, latest.promoted_by,
            latest.reason) == (second, first, manager, "higher AUC")


def test_an_unknown_version_lists_the_cards_versions():
    register()
    with pytest.raises(CommandError,
                       match=r"No application model has version 7\. application versions: "
                             r"v1 \(candidate\)\."):
        promote("--card", "application", "--version", "7", "--reason", "go")
    with pytest.raises(CommandError, match="behaviour versions: none yet"):
        promote("--card", "behaviour", "--version", "1", "--reason", "go")


@pytest.mark.parametrize(("card", "setup", "reason", "message"), [
    ("csv", lambda: register(card="csv"), "go", "CSV table"),
    ("application", lambda: call_command("promote_model", "--card", "application",
                                         "--version", "1", "--reason", "go", stdout=StringIO()),
     "again", "already the champion"),
    ("application", lambda: None, "   ", "A reason is required"),
])
def test_refusals(card, setup, reason, message):
    if card == "application":
        register()
    setup()
    before = ModelPromotion.objects.count()
    with pytest.raises(CommandError, match=message):
        promote("--card", card, "--version", "1", "--reason", reason)
    assert ModelPromotion.objects.count() == before


def test_the_person_named_must_exist_and_may_promote():
    register()
    officer = staff(RISK_OFFICER)
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        promote("--card", "application", "--version", "1", "--reason", "go", "--by", "nobody")
    with pytest.raises(CommandError, match="may not promote models"):
        promote("--card", "application", "--version", "1", "--reason", "go",
                "--by", officer.username)
    assert ModelVersion.objects.get().status == ModelStatus.CANDIDATE

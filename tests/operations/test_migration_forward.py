"""The models that moved out of lending (BusinessDate and IdempotencyRecord to core, CloseStep to
operations) kept their tables and their rows.

The full check, a database seeded at the commit before the move and migrated forward, is
tools/check_migration_forward.py; these tests are its fast part: the moved models' state in the
current tree, and a round trip of the test database back to before the move and forward again.
"""

import datetime

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ProjectState
from django.utils import timezone

from core.models import BusinessDate, IdempotencyRecord
from operations.models import CloseStep

MOVED = {  # (app now, model): (app before, table)
    ("core", "businessdate"): ("lending", "lending_businessdate"),
    ("core", "idempotencyrecord"): ("lending", "lending_idempotencyrecord"),
    ("operations", "closestep"): ("lending", "lending_closestep"),
}
# The migration state of the commit before the move (59b8ed8): lending up to 0003, and neither
# core nor operations. Targeting lending 0003 alone would leave core 0001 applied (it depends
# on lending 0003 only), a state in which lending and core both own the same two tables.
BEFORE_THE_MOVE = [("lending", "0003_repayment_allocation_trigger"), ("core", None),
                   ("operations", None)]
DAY = datetime.date(2026, 3, 14)


def test_moved_models_keep_their_tables():
    assert BusinessDate._meta.db_table == "lending_businessdate"
    assert IdempotencyRecord._meta.db_table == "lending_idempotencyrecord"
    assert CloseStep._meta.db_table == "lending_closestep"
    for (app_label, model), (_, table) in MOVED.items():
        assert apps.get_model(app_label, model)._meta.db_table == table


def test_migration_state_matches_the_moved_models():
    """The state the migrations build has the models in their new apps, on the old tables, and
    the same as the models themselves (makemigrations would write nothing for them)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    state = loader.project_state()
    for (app_label, model), (old_app, table) in MOVED.items():
        assert state.models[app_label, model].options["db_table"] == table
        assert (old_app, model) not in state.models

    changes = MigrationAutodetector(state, ProjectState.from_apps(apps)).changes(
        graph=loader.graph)
    about_moved = [
        f"{app_label}: {operation.describe()}"
        for app_label, migrations in changes.items()
        for migration in migrations
        for operation in migration.operations
        if getattr(operation, "model_name", getattr(operation, "name", "")).lower()
        in {model for _, model in MOVED}
    ]
    assert about_moved == []


def pgtriggers():
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t"
                       " JOIN pg_class c ON c.oid = t.tgrelid"
                       " WHERE NOT t.tgisinternal AND t.tgname LIKE 'pgtrigger_%%'")
        return set(cursor.fetchall())


def applied():
    return set(MigrationRecorder(connection).applied_migrations())


def migrate(targets):
    """Migrates the test database to targets; returns the state the migrations build there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()  # re-read what is applied now
    return executor.loader.project_state([t for t in targets if t[1] is not None])


@pytest.mark.django_db(transaction=True)
def test_back_to_before_the_move_and_forward_again_keeps_the_rows():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    applied_at_start, triggers = applied(), pgtriggers()
    BusinessDate.objects.update_or_create(singleton=True, defaults={"current": DAY})
    IdempotencyRecord.objects.create(scope="user:1", key="before-the-move",
                                     request_hash="a" * 64, result={"loan": 7})
    CloseStep.objects.create(business_date=DAY, step="accrue_interest", rows=3, seconds=0.5,
                             finished_at=timezone.now())
    try:
        state = migrate(BEFORE_THE_MOVE)
        old = state.apps

        # As at the commit before the move: lending up to 0003, no core, no operations (so no
        # audit tables either) ...
        assert max(name for app, name in applied() if app == "lending").startswith("0003_")
        assert not {app for app, _ in applied()} & {"core", "operations"}
        assert "core_auditevent" not in connection.introspection.table_names()
        # ... and lending's own models again, on the same rows; their content types are
        # lending's again.
        assert ("lending", "businessdate") in state.models
        assert old.get_model("lending", "BusinessDate").objects.get().current == DAY
        OldRecord = old.get_model("lending", "IdempotencyRecord")
        assert OldRecord.objects.get(key="before-the-move").result == {"loan": 7}
        OldCloseStep = old.get_model("lending", "CloseStep")
        assert OldCloseStep.objects.get(step="accrue_interest").rows == 3
        OldContentType = old.get_model("contenttypes", "ContentType")
        for (_, model), (old_app, _) in MOVED.items():
            assert OldContentType.objects.get(model=model).app_label == old_app
        # Lending's triggers on the tables it had then stayed; only those of later migrations
        # (core's audit, lending's later tables) went.
        tables_then = set(connection.introspection.table_names())
        assert {t for t in triggers
                if t[0].startswith("lending_") and t[0] in tables_then} <= pgtriggers()

        # Rows the old code writes, then forward to the current tree.
        OldRecord.objects.create(scope="client:bank", key="written-before", request_hash="b" * 64,
                                 result={"repayment": 9})
        OldCloseStep.objects.create(business_date=DAY, step="age_instalments", rows=1)
    finally:
        migrate(latest)  # whatever happened, leave the latest schema to the other tests

    assert applied() == applied_at_start
    assert BusinessDate.objects.get().current == DAY
    assert {(r.scope, r.key): r.result for r in IdempotencyRecord.objects.all()} == {
        ("user:1", "before-the-move"): {"loan": 7},
        ("client:bank", "written-before"): {"repayment": 9}}
    assert set(CloseStep.objects.values_list("step", "rows")) == {("accrue_interest", 3),
                                                                   ("age_instalments", 1)}
    ContentType.objects.clear_cache()
    for (app_label, model) in MOVED:
        assert ContentType.objects.get(model=model).app_label == app_label
    assert pgtriggers() == triggers
    tables = set(connection.introspection.table_names())
    assert {table for _, table in MOVED.values()} <= tables
    assert not {f"{app_label}_{model}" for app_label, model in MOVED} & tables

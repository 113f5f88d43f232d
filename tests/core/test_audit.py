"""The audit chain on the real PostgreSQL: hash links, append-only rows, tamper detection and
one lock per subject."""

import hashlib
import json
import threading
from dataclasses import astuple
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pgtrigger
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, ProgrammingError, connection, transaction

from core.audit import (
    GENESIS_HASH,
    AuditDraft,
    actor_client,
    actor_system,
    actor_user,
    audit_chain_verify,
    audit_event_append,
    audit_events_append_many,
    audit_trail_of,
    canonical_json,
)
from core.models import AuditChainHead, AuditEvent

# The triggers a tamperer has to get past.
TRIGGERS = ("core.AuditEvent:audit_event_append_only", "core.AuditEvent:audit_event_no_delete",
            "core.AuditChainHead:audit_head_no_delete")


def append(subject_id, payload=None, *, action="loan.repay"):
    return audit_event_append(actor=actor_system("test"), action=action, subject_kind="loan",
                              subject_id=subject_id, payload=payload or {})


def chain(subject_id, length):
    return [append(subject_id, {"n": n}) for n in range(length)]


def draft(subject_id, n):
    return AuditDraft(actor=actor_system("batch"), action="loan.repay", subject_kind="loan",
                      subject_id=subject_id, payload={"n": n})


def tamper(sql, params=()):
    """Change rows behind the triggers' back, as a superuser with psql could."""
    with pgtrigger.ignore(*TRIGGERS), connection.cursor() as cursor:
        cursor.execute(sql, params)


def verify_command(*args):
    """`manage.py audit_verify` as an operator runs it: its output, or the CommandError that
    Django turns into stderr and exit status 1."""
    out = StringIO()
    try:
        call_command("audit_verify", *args, stdout=out)
    except CommandError as error:
        assert error.returncode == 1
        return error
    return out.getvalue()


def recomputed_hash(event):
    """The hash computed here from the stored row, without core.audit's own code."""
    content = json.dumps({
        "actor": {"kind": event.actor_kind, "id": event.actor_id, "label": event.actor_label},
        "action": event.action,
        "subject": {"kind": event.subject_kind, "id": event.subject_id},
        "seq": event.seq,
        "payload": event.payload,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((event.prev_hash + content).encode()).hexdigest()


@pytest.mark.django_db
def test_a_subjects_events_form_a_hash_chain(django_user_model):
    officer = django_user_model.objects.create_user(username="officer", password="secret")
    for limit in ("9000.00", "8000.00", "7000.00"):
        audit_event_append(actor=actor_user(officer), action="line.limit_lower",
                           subject_kind="line", subject_id=7,
                           payload={"new_limit": Decimal(limit), "reason": "降额"})
    events = list(audit_trail_of("line", 7))
    assert [event.seq for event in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH == "0" * 64
    assert [event.prev_hash for event in events[1:]] == [event.hash for event in events[:-1]]
    assert [recomputed_hash(event) for event in events] == [event.hash for event in events]
    assert (events[0].actor_kind, events[0].actor_id, events[0].actor_label) == (
        "user", str(officer.pk), "officer")
    assert events[2].payload == {"new_limit": "7000.00", "reason": "降额"}
    head = AuditChainHead.objects.get(subject_kind="line", subject_id="7")
    assert (head.last_seq, head.last_hash) == (3, events[2].hash)
    assert audit_chain_verify() is None


def test_actors_say_who_acted():
    assert astuple(actor_client("bank-a", "Bank A")) == ("client", "bank-a", "Bank A")
    assert astuple(actor_system("accrue")) == ("system", "accrue", "accrue")
    with pytest.raises(ValueError):
        actor_user(None)


@pytest.mark.django_db
def test_the_event_rolls_back_with_the_change_it_records():
    with pytest.raises(RuntimeError), transaction.atomic():
        append("1")
        raise RuntimeError("the service's change failed")
    assert not AuditEvent.objects.exists()
    assert not AuditChainHead.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("change", [
    lambda event: AuditEvent.objects.filter(pk=event.pk).update(action="loan.forgive"),
    lambda event: AuditEvent.objects.filter(pk=event.pk).delete(),
    lambda event: connection.cursor().execute(
        "UPDATE core_auditevent SET payload = '{}' WHERE id = %s", [event.pk]),
    lambda event: connection.cursor().execute(
        "DELETE FROM core_auditevent WHERE id = %s", [event.pk]),
    lambda event: AuditChainHead.objects.all().delete(),
], ids=["orm-update", "orm-delete", "sql-update", "sql-delete", "head-delete"])
def test_the_database_refuses_to_change_or_delete_an_event(change):
    event = append("1", {"principal": "1000.00"})
    # pgtrigger's RAISE EXCEPTION arrives as ProgrammingError.
    with pytest.raises(ProgrammingError, match="Cannot (update|delete) rows"), \
            transaction.atomic():
        change(event)
    assert AuditEvent.objects.get(pk=event.pk).payload == {"principal": "1000.00"}


@pytest.mark.django_db
def test_an_intact_book_verifies():
    chain("1", 3)
    chain("2", 2)
    assert audit_chain_verify() is None
    assert verify_command() == "5 events in 2 chains verified\n"
    assert verify_command("--subject", "loan:2") == "2 events in 1 chains verified\n"


@pytest.mark.django_db
def test_a_changed_payload_is_found_at_that_event():
    chain("1", 3)
    target = chain("2", 3)[1]
    chain("3", 3)
    tamper("UPDATE core_auditevent SET payload = '{\"n\": 7}' WHERE id = %s", [target.pk])

    broken = audit_chain_verify()
    assert (broken.event_id, broken.subject_kind, broken.subject_id, broken.seq) == (
        target.pk, "loan", "2", 2)
    assert "hash does not match" in broken.reason
    for args in [(), ("--subject", "loan:2")]:
        error = verify_command(*args)
        assert isinstance(error, CommandError)
        assert f"event {target.pk} (loan:2 seq 2)" in str(error)
    assert audit_chain_verify(subject_kind="loan", subject_id="3") is None
    assert verify_command("--subject", "loan:3") == "3 events in 1 chains verified\n"


@pytest.mark.django_db
def test_a_rewritten_event_with_a_fresh_hash_breaks_the_next_link():
    first, second, third = chain("1", 3)
    second.payload = {"n": 7}
    tamper("UPDATE core_auditevent SET payload = '{\"n\": 7}', hash = %s WHERE id = %s",
           [recomputed_hash(second), second.pk])
    broken = audit_chain_verify()
    assert (broken.event_id, broken.seq) == (third.pk, 3)
    assert "prev_hash" in broken.reason


@pytest.mark.django_db
def test_a_removed_event_leaves_a_gap():
    first, second, third = chain("1", 3)
    tamper("DELETE FROM core_auditevent WHERE id = %s", [second.pk])
    broken = audit_chain_verify()
    assert (broken.event_id, broken.seq, broken.reason) == (third.pk, 3, "seq 2 is missing")


@pytest.mark.django_db
def test_a_removed_last_event_no_longer_matches_the_head():
    first, second, third = chain("1", 3)
    tamper("DELETE FROM core_auditevent WHERE id = %s", [third.pk])
    broken = audit_chain_verify()
    assert (broken.event_id, broken.seq) == (second.pk, 2)
    assert "head says seq 3" in broken.reason
    assert f"event {second.pk} (loan:1 seq 2)" in str(verify_command())


@pytest.mark.django_db
def test_a_chain_without_its_head_is_found():
    first, second = chain("1", 2)
    tamper("DELETE FROM core_auditchainhead")
    broken = audit_chain_verify()
    assert (broken.event_id, broken.reason) == (second.pk, "the chain has no head")


@pytest.mark.django_db
def test_a_head_without_events_is_found():
    chain("1", 1)
    AuditChainHead.objects.create(subject_kind="loan", subject_id="2", last_seq=1,
                                  last_hash="f" * 64)
    broken = audit_chain_verify()
    assert (broken.event_id, broken.subject_id, broken.seq) == (None, "2", None)
    assert "the head of loan:2: the head says seq 1" in str(verify_command())


@pytest.mark.django_db
@pytest.mark.parametrize("subject", ["loan", "loan:", ":42"])
def test_a_malformed_subject_is_refused(subject):
    with pytest.raises(CommandError, match="kind:id"):
        call_command("audit_verify", "--subject", subject)


def run_in_thread(work, errors):
    """Start `work` on its own connection; record what it raises."""
    def runner():
        try:
            work()
        except Exception as error:  # the test inspects it
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=runner)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_locked_subject_does_not_hold_up_another():
    append("A")
    append("B")
    a_locked, release_a, others_done = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def hold_a():
        with transaction.atomic():
            append("A", {"held": True})
            a_locked.set()
            release_a.wait(timeout=60)

    def append_elsewhere():
        append("B")
        append("C")  # a subject with no head yet
        others_done.set()

    def append_a_impatiently():
        with transaction.atomic():
            connection.cursor().execute("SET LOCAL lock_timeout = '200ms'")
            append("A")

    holder = run_in_thread(hold_a, errors)
    try:
        assert a_locked.wait(timeout=30)
        others = run_in_thread(append_elsewhere, errors)
        done_while_a_held = others_done.wait(timeout=30)
        run_in_thread(append_a_impatiently, errors).join(timeout=30)
        release_a.set()
        others.join(timeout=30)
    finally:
        release_a.set()
        holder.join(timeout=30)
    assert done_while_a_held, errors
    # The same subject does wait: A's head really was locked all along.
    assert [type(error) for error in errors] == [OperationalError]
    assert [e.seq for e in audit_trail_of("loan", "A")] == [1, 2]
    assert [e.seq for e in audit_trail_of("loan", "B")] == [1, 2]
    assert audit_chain_verify() is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_to_one_subject_queue_without_gaps():
    start, errors = threading.Barrier(8), []

    def appender(n):
        def work():
            start.wait(timeout=30)
            append("hot", {"n": n})
        return work

    threads = [run_in_thread(appender(n), errors) for n in range(8)]
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    events = list(audit_trail_of("loan", "hot"))
    assert [event.seq for event in events] == list(range(1, 9))
    assert sorted(event.payload["n"] for event in events) == list(range(8))
    assert AuditChainHead.objects.get(subject_id="hot").last_seq == 8
    assert audit_chain_verify() is None


@pytest.mark.django_db
def test_a_batch_continues_each_subjects_chain_in_the_drafts_order():
    chain("1", 2)
    drafts = [draft("2", 0), draft("1", 2), draft("2", 1), draft("1", 3), draft("2", 2)]
    events = audit_events_append_many(iter(drafts))
    assert [(e.subject_id, e.seq, e.payload["n"]) for e in events] == [
        ("2", 1, 0), ("1", 3, 2), ("2", 2, 1), ("1", 4, 3), ("2", 3, 2)]
    assert all(event.pk for event in events)
    assert [e.payload["n"] for e in audit_trail_of("loan", 1)] == [0, 1, 2, 3]
    assert AuditChainHead.objects.get(subject_id="1").last_hash == events[3].hash
    assert audit_chain_verify() is None
    assert audit_events_append_many([]) == []


@pytest.mark.django_db
def test_one_bad_draft_refuses_the_whole_batch():
    bad = AuditDraft(actor=actor_system("batch"), action="loan.repay", subject_kind="loan",
                     subject_id="2", payload={"amount": 0.5})
    with pytest.raises(TypeError, match="float"):
        audit_events_append_many([draft("1", 0), bad])
    assert not AuditEvent.objects.exists()
    assert not AuditChainHead.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_batches_over_the_same_subjects_in_opposite_orders_do_not_deadlock():
    subjects = [str(n) for n in range(20)]
    start, errors = threading.Barrier(4), []

    def batch(order):
        def work():
            start.wait(timeout=30)
            audit_events_append_many(draft(subject, 0) for subject in order)
        return work

    threads = [run_in_thread(batch(order), errors)
               for order in (subjects, subjects[::-1]) * 2]
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert set(AuditChainHead.objects.values_list("last_seq", flat=True)) == {4}
    assert audit_chain_verify() is None


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [{"amount": 12.5}, {"legs": [{"amount": Decimal("1")},
                                                                 {"amount": 0.1}]}])
def test_a_float_is_refused(payload):
    with pytest.raises(TypeError, match="float"):
        append("1", payload)
    assert not AuditEvent.objects.exists()
    assert not AuditChainHead.objects.exists()


@pytest.mark.django_db
def test_decimals_and_dates_round_trip_and_verify():
    at = datetime(2026, 1, 31, 23, 59, 30, tzinfo=UTC)
    event = append("1", {"principal": Decimal("10000.10"), "due": date(2026, 2, 28),
                         "at": at, "legs": (Decimal("-0.01"), 2)})
    event.refresh_from_db()
    assert event.payload == {"principal": "10000.10", "due": "2026-02-28",
                             "at": "2026-01-31T23:59:30+00:00", "legs": ["-0.01", 2]}
    assert recomputed_hash(event) == event.hash
    assert audit_chain_verify() is None


def test_canonical_json_is_one_text_per_content():
    assert canonical_json({"b": Decimal("1.50"), "a": ["é", None, True]}) == (
        '{"a":["é",null,true],"b":"1.50"}')
    assert canonical_json({"a": 1, "b": 2}) == canonical_json({"b": 2, "a": 1})
    with pytest.raises(TypeError):
        canonical_json({1: "a key that would read back as a string"})

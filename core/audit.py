"""The audit chain: who did what to which subject, one hash-chained sequence per subject
(docs/architecture.md, "The audit trail").

Each event's hash covers its content and the previous event's hash, so changing, removing or
reordering any event breaks every link after it. PostgreSQL refuses updates and deletes;
`audit_chain_verify` finds whatever got past that (a superuser, a restored backup)."""

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .batch import BATCH, instance_saved, rows_insert, rows_update
from .models import ActorKind, AuditChainHead, AuditEvent

# The prev_hash of a chain's first event.
GENESIS_HASH = "0" * 64

# What verification reads of each event: everything `_event_hash` covers, and the hash.
_STREAMED_FIELDS = ("pk", "actor_kind", "actor_id", "actor_label", "action", "subject_kind",
                    "subject_id", "seq", "payload", "prev_hash", "hash")
# What an append writes.
_STORED_FIELDS = (*_STREAMED_FIELDS[1:], "created_at")


@dataclass(frozen=True)
class Actor:
    """Who acted: a signed-in user, a partner's OAuth client, or a step of the system."""

    kind: str
    id: str
    label: str


def actor_user(user) -> Actor:
    """A signed-in user; an anonymous request has nobody to hold to account, so it is refused."""
    if user is None or user.pk is None:
        raise ValueError("An audited action needs the user who took it.")
    return Actor(kind=ActorKind.USER, id=str(user.pk), label=user.get_username())


def actor_client(client_id, label="") -> Actor:
    return Actor(kind=ActorKind.CLIENT, id=str(client_id), label=label)


def actor_system(name) -> Actor:
    """A step of the system, such as a nightly close step, named by its step name."""
    return Actor(kind=ActorKind.SYSTEM, id=name, label=name)


@dataclass(frozen=True)
class AuditBreak:
    """The first broken link found. `event_id` and `seq` are None for a head whose chain has
    no events at all."""

    event_id: int | None
    subject_kind: str
    subject_id: str
    seq: int | None
    reason: str

    def __str__(self):
        subject = f"{self.subject_kind}:{self.subject_id}"
        if self.event_id is None:
            return f"the head of {subject}: {self.reason}"
        return f"event {self.event_id} ({subject} seq {self.seq}): {self.reason}"


def canonical_json(data) -> str:
    """The one text of `data`: sorted keys, no spaces, UTF-8, amounts as Decimal strings and
    dates in ISO format, so the same content always hashes the same.

    A float is refused with TypeError: in a money system it is a bug, and its text is not
    stable enough to hash. Keys must be strings, as JSON reads them back."""
    return _json_text(_plain(data))


def _json_text(plain) -> str:
    """The canonical text of data that is JSON types already (what `_plain` returns)."""
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain(value):
    """`value` as JSON types only, refusing what would not read back the same: what its
    canonical text reads back as, mappings in the text's sorted order."""
    if isinstance(value, float):
        raise TypeError(f"A float ({value!r}) cannot be audited: use a Decimal or a string.")
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("Audited mappings need string keys.")
        return {key: _plain(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # a datetime is a date too
        return value.isoformat()
    if value is None or isinstance(value, str | int):  # bool is an int
        return value
    raise TypeError(f"A {type(value).__name__} cannot be audited.")


def _event_hash(event) -> str:
    """The hash of one event (a model instance or a streamed row) from its values as stored:
    the previous hash, then the canonical JSON of who did what to which subject. Stored values
    are JSON types already (strings, the seq, the payload as JSON reads it back), so they are
    not walked by `_plain` again: the hash is most of the cost of appending."""
    content = _json_text({
        "actor": {"kind": event.actor_kind, "id": event.actor_id, "label": event.actor_label},
        "action": event.action,
        "subject": {"kind": event.subject_kind, "id": event.subject_id},
        "seq": event.seq,
        "payload": event.payload,
    })
    return hashlib.sha256((event.prev_hash + content).encode()).hexdigest()


@dataclass(frozen=True)
class AuditDraft:
    """One event still to be appended: who did what to which subject."""

    actor: Actor
    action: str
    subject_kind: str
    subject_id: object  # a pk or any id; stored as its str()
    payload: dict


def audit_event_append(*, actor: Actor, action: str, subject_kind: str, subject_id,
                       payload: dict) -> AuditEvent:
    """Record that `actor` did `action` to the subject, as the next link of its chain.

    Joins the caller's transaction, so the event commits or rolls back with the change it
    records; until then the subject's head stays locked and other appends to the same subject
    wait. A transaction that audits several subjects should append in a fixed order (by kind,
    then id) so that two such transactions cannot deadlock."""
    draft = AuditDraft(actor=actor, action=action, subject_kind=subject_kind,
                       subject_id=subject_id, payload=payload)
    return audit_events_append_many([draft])[0]


def audit_events_append_many(drafts) -> list[AuditEvent]:
    """Append many events in a few statements, for the set-based booking paths; returns them
    in the drafts' order. Several drafts on one subject become consecutive links in that order.

    Same guarantees as `audit_event_append`: the caller's transaction, one lock per subject
    (taken in sorted order, so two batches never deadlock on each other)."""
    now = timezone.now()
    events = [_event_of(draft, now) for draft in drafts]
    if not events:
        return []
    chains = defaultdict(list)
    for event in events:
        chains[(event.subject_kind, event.subject_id)].append(event)
    # No savepoint: a failed append must doom the caller's change, not be caught and skipped.
    with transaction.atomic(savepoint=False):
        heads = _heads_advance({subject: len(chain) for subject, chain in chains.items()})
        for subject, chain in chains.items():
            _head_id, last_seq, prev_hash = heads[subject]
            _link(chain, first_seq=last_seq - len(chain) + 1, prev_hash=prev_hash)
        ids = rows_insert(AuditEvent, _STORED_FIELDS,
                          [[getattr(event, name) for name in _STORED_FIELDS]
                           for event in events], ids=True)
        for event, pk in zip(events, ids, strict=True):
            instance_saved(event, pk)
        rows_update(AuditChainHead, ["last_hash"],
                    [(chain[-1].hash, heads[subject][0]) for subject, chain in chains.items()])
    return events


def _event_of(draft, now) -> AuditEvent:
    """The unsaved event, its fields as they will be stored (the payload as JSON types, as it
    reads back); refused before anything is locked if the draft cannot be audited."""
    subject_id = str(draft.subject_id)
    if not (draft.action and draft.subject_kind and subject_id):
        raise ValueError("An audit event needs an action, a subject kind and a subject id.")
    return AuditEvent(actor_kind=draft.actor.kind, actor_id=str(draft.actor.id),
                      actor_label=draft.actor.label, action=draft.action,
                      subject_kind=draft.subject_kind, subject_id=subject_id,
                      payload=_plain(draft.payload), created_at=now)


def _link(chain, *, first_seq, prev_hash):
    """Number and hash one subject's new events, continuing from its head."""
    for seq, event in enumerate(chain, start=first_seq):
        event.seq, event.prev_hash = seq, prev_hash
        event.hash = prev_hash = _event_hash(event)


def _heads_advance(counts) -> dict:
    """Lock each subject's head and move it on by its number of new events, creating the heads
    of new subjects; returns {subject: (head id, its new last_seq, the hash before)}.

    One statement per batch creates or moves on every head: two first appends racing on a new
    subject cannot both create it, the second waits and moves it on instead. Heads are taken
    in sorted order, and stay locked until the caller's transaction ends."""
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    insert = f"INSERT INTO {table} (subject_kind, subject_id, last_seq, last_hash) "
    upsert = (" ON CONFLICT (subject_kind, subject_id)"
              f" DO UPDATE SET last_seq = {table}.last_seq + EXCLUDED.last_seq"
              " RETURNING id, subject_kind, subject_id, last_seq, last_hash")
    subjects = sorted(counts)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array per column (unnest keeps their order): a VALUES list would cost the
            # driver a placeholder per value, more than the statement's own work.
            cursor.execute(
                insert + "SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::integer[], "
                "%s::varchar[])" + upsert,
                [[kind for kind, _id in subjects], [subject_id for _kind, subject_id in subjects],
                 [counts[subject] for subject in subjects], [GENESIS_HASH] * len(subjects)])
            rows = cursor.fetchall()
        else:
            rows = []
            for start in range(0, len(subjects), BATCH):
                chunk = subjects[start:start + BATCH]
                cursor.execute(
                    insert + "VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(chunk)) + upsert,
                    [value for subject in chunk
                     for value in (*subject, counts[subject], GENESIS_HASH)])
                rows += cursor.fetchall()
    return {(kind, subject_id): (head_id, last_seq, last_hash)
            for head_id, kind, subject_id, last_seq, last_hash in rows}


def audit_trail_of(subject_kind: str, subject_id):
    """The subject's events, first to last."""
    return AuditEvent.objects.filter(subject_kind=subject_kind,
                                     subject_id=str(subject_id)).order_by("seq")


def audit_chain_verify(*, subject_kind=None, subject_id=None) -> AuditBreak | None:
    """Recompute every chain (or those of one subject kind, or one subject) and return the
    first broken link, or None when all are intact.

    Streams the events in chain order, so memory stays flat on millions of rows; then checks
    each head against the end of its chain in the database."""
    subject = {}
    if subject_kind is not None:
        subject["subject_kind"] = subject_kind
    if subject_id is not None:
        subject["subject_id"] = str(subject_id)
    events = AuditEvent.objects.filter(**subject)
    heads = AuditChainHead.objects.filter(**subject)
    # Inside a transaction the stream is a plain server-side cursor, fetched as it is read;
    # outside one, PostgreSQL would first copy the whole result to hold it past the commit.
    with transaction.atomic():
        return _links_break(events) or _heads_break(events, heads)


def _links_break(events) -> AuditBreak | None:
    """The first event whose seq, prev_hash or own hash is not what its chain says."""
    rows = (events.order_by("subject_kind", "subject_id", "seq")
            .values_list(*_STREAMED_FIELDS, named=True).iterator(chunk_size=BATCH))
    chain, expected_seq, expected_prev = None, 1, GENESIS_HASH
    for row in rows:
        if (row.subject_kind, row.subject_id) != chain:
            chain, expected_seq, expected_prev = (row.subject_kind, row.subject_id), 1, GENESIS_HASH
        if row.seq != expected_seq:
            reason = f"seq {expected_seq} is missing"
        elif row.prev_hash != expected_prev:
            reason = "prev_hash is not the previous event's hash"
        elif row.hash != _event_hash(row):
            reason = "hash does not match the event's content"
        else:
            expected_seq, expected_prev = row.seq + 1, row.hash
            continue
        return AuditBreak(row.pk, row.subject_kind, row.subject_id, row.seq, reason)
    return None


def _heads_break(events, heads) -> AuditBreak | None:
    """A head that does not point at the last event of its chain, or a chain with no head.

    Runs after `_links_break` found every chain contiguous from seq 1, so "the last event" is
    the one at the head's seq with nothing after it."""
    same_subject = {"subject_kind": OuterRef("subject_kind"),
                    "subject_id": OuterRef("subject_id")}
    chain = AuditEvent.objects.filter(**same_subject)
    stray = (heads.filter(~Exists(chain.filter(seq=OuterRef("last_seq"),
                                               hash=OuterRef("last_hash")))
                          | Exists(chain.filter(seq__gt=OuterRef("last_seq"))))
             .order_by("subject_kind", "subject_id").first())
    if stray is not None:
        return _last_event_break(events, stray.subject_kind, stray.subject_id,
                                 f"the head says seq {stray.last_seq} with hash "
                                 f"{stray.last_hash}, not the chain's last event")
    headless = (events.filter(seq=1)
                .exclude(Exists(AuditChainHead.objects.filter(**same_subject)))
                .order_by("subject_kind", "subject_id").first())
    if headless is not None:
        return _last_event_break(events, headless.subject_kind, headless.subject_id,
                                 "the chain has no head")
    return None


def _last_event_break(events, subject_kind, subject_id, reason) -> AuditBreak:
    """The break reported at the last event of the subject's chain (none if it has none)."""
    last = (events.filter(subject_kind=subject_kind, subject_id=subject_id)
            .order_by("-seq").values_list("pk", "seq").first())
    event_id, seq = last or (None, None)
    return AuditBreak(event_id, subject_kind, subject_id, seq, reason)

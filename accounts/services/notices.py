"""Customer notices (通知): written many at a time by the nightly close, read in the customer's
inbox, e-mailed by Celery after the writing transaction commits.

A notice's `key` names what it is about (for a payment reminder: the loan, the point and the due
date), and (customer, key) is unique in the database: writing the same notice again, from a
rerun or a redelivered chunk, writes nothing and e-mails nothing. E-mail is sent at least once
and, short of a crash between sending and committing, exactly once: `notices_email` sends only
notices with no `emailed_at`, locking them while it sends."""

from dataclasses import dataclass
from datetime import date
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.batch import BATCH

from ..languages import by_language
from ..models import Notice

# Notice ids per e-mail task: enough that a night's reminders are a few tasks, few enough that
# one task's SMTP session stays short.
EMAIL_BATCH = 500
# Addresses that can never receive mail (RFC 2606), such as the simulator's customers'.
UNDELIVERABLE = ".invalid"


@dataclass(frozen=True)
class NoticeDraft:
    """A notice still to be written."""

    customer_id: int
    kind: str
    key: str
    subject: str
    body: str
    business_date: date


def notices_create_many(drafts) -> list[int]:
    """Write the notices whose (customer, key) is new, skipping the others, in one statement
    per batch; return the new notices' ids. Their e-mail is queued for when the caller's
    transaction commits (at once when there is none)."""
    drafts = list({(d.customer_id, d.key): d for d in drafts}.values())
    if not drafts:
        return []
    insert = _insert_new if connection.vendor == "postgresql" else _insert_new_elsewhere
    new_ids = sorted(pk for start in range(0, len(drafts), BATCH)
                     for pk in insert(drafts[start:start + BATCH]))
    notices_email_queue(new_ids)
    return new_ids


_INSERT_NEW_SQL = """
INSERT INTO {table} (customer_id, kind, key, subject, body, business_date, created_at)
SELECT u.customer_id, u.kind, u.key, u.subject, u.body, u.business_date, now()
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::date[])
     AS u(customer_id, kind, key, subject, body, business_date)
ON CONFLICT (customer_id, key) DO NOTHING
RETURNING id
"""


def _insert_new(drafts) -> list[int]:
    """One statement: a notice another transaction wrote first (a rerun, a redelivered chunk)
    stays the only one, and only the notices written here come back."""
    columns = [[d.customer_id for d in drafts], [d.kind for d in drafts],
               [d.key for d in drafts], [d.subject[:200] for d in drafts],
               [d.body for d in drafts], [d.business_date for d in drafts]]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_NEW_SQL.format(table=Notice._meta.db_table), columns)
        return [row[0] for row in cursor.fetchall()]


def _insert_new_elsewhere(drafts) -> list[int]:
    """The same for the embedded demo database (SQLite): skip the keys that exist, insert the
    rest, and read back their ids."""
    existing = set(Notice.objects.filter(customer_id__in={d.customer_id for d in drafts},
                                         key__in={d.key for d in drafts})
                   .values_list("customer_id", "key"))
    fresh = [d for d in drafts if (d.customer_id, d.key) not in existing]
    if not fresh:
        return []
    Notice.objects.bulk_create(
        [Notice(customer_id=d.customer_id, kind=d.kind, key=d.key, subject=d.subject[:200],
                body=d.body, business_date=d.business_date) for d in fresh],
        ignore_conflicts=True)
    wanted = {(d.customer_id, d.key) for d in fresh}
    return [pk for pk, customer_id, key in
            Notice.objects.filter(customer_id__in={c for c, _ in wanted},
                                  key__in={k for _, k in wanted}, emailed_at__isnull=True)
            .values_list("pk", "customer_id", "key")
            if (customer_id, key) in wanted]


def notices_email_queue(notice_ids):
    """After the current transaction commits, hand the notices to Celery to e-mail, in tasks of
    `EMAIL_BATCH` ids."""
    from ..tasks import notices_send

    notice_ids = list(notice_ids)
    for start in range(0, len(notice_ids), EMAIL_BATCH):
        transaction.on_commit(partial(notices_send.delay, notice_ids[start:start + EMAIL_BATCH]))


def notices_email(*, notice_ids) -> int:
    """E-mail the given notices not e-mailed yet, through Django's e-mail backend, and mark
    them e-mailed; returns how many were sent. Safe to run twice, also at the same time: a
    notice being sent by another worker is locked and skipped, one already sent is skipped.
    A customer with no e-mail address, or one under the reserved top-level domain ".invalid"
    (RFC 2606: the simulated population's), is skipped: the notice stays in the inbox, unsent."""
    with transaction.atomic():
        notices = list(Notice.objects.select_for_update(of=("self",), skip_locked=True)
                       .filter(pk__in=list(notice_ids), emailed_at__isnull=True)
                       .exclude(customer__email="")
                       .exclude(customer__email__iendswith=UNDELIVERABLE)
                       .select_related("customer").order_by("pk"))
        if not notices:
            return 0
        messages = []
        for language, group in by_language(notices, customer_id=lambda n: n.customer_id).items():
            with translation.override(language):
                messages += [EmailMessage(subject=n.subject, body=_email_body(n),
                                          from_email=settings.DEFAULT_FROM_EMAIL,
                                          to=[n.customer.email]) for n in group]
        # A failure raises: nothing is marked, and the task's retry sends again.
        get_connection().send_messages(messages)
        Notice.objects.filter(pk__in=[n.pk for n in notices]).update(emailed_at=timezone.now())
    return len(notices)


def _email_body(notice) -> str:
    """The notice's body (written in the customer's language) and a footer in the same."""
    return (f"{notice.body}\n\n"
            + _("You can read all your notices in your inbox when you sign in.") + "\n"
            + _("Questions? %(contact)s") % {"contact": settings.SUPPORT_CONTACT} + "\n")


def notice_mark_read(*, customer, notice_id) -> Notice:
    """The customer's notice, marked read (it stays read). Another customer's notice is
    `Notice.DoesNotExist`, as a missing one is."""
    notice = Notice.objects.get(pk=notice_id, customer=customer)
    if notice.read_at is None:
        notice.read_at = timezone.now()
        Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=notice.read_at)
    return notice


def notices_mark_all_read(*, customer) -> int:
    """Mark every unread notice of the customer read; returns how many."""
    return Notice.objects.filter(customer=customer, read_at__isnull=True).update(
        read_at=timezone.now())


def notices_for_customer(customer):
    """The customer's notices, newest first (the inbox)."""
    return Notice.objects.filter(customer=customer).order_by("-business_date", "-id")


def notices_unread_count(customer) -> int:
    if customer is None or not customer.is_authenticated:
        return 0
    return Notice.objects.filter(customer=customer, read_at__isnull=True).count()

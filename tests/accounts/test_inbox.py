"""The customer's inbox of notices (/notices/) and the unread count in every page's header."""

import re
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Notice, NoticeKind
from accounts.services.notices import NoticeDraft, notices_create_many, notices_unread_count
from tests.factories import UserFactory, set_business_date
from tests.test_headers import inline_code_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def business_day(reference_data):
    set_business_date(date(2026, 3, 10))


def notice(user, key, subject, day=date(2026, 3, 9)):
    [pk] = notices_create_many([NoticeDraft(
        customer_id=user.pk, kind=NoticeKind.DUNNING, key=key, subject=subject,
        body=f"{subject}: the body.", business_date=day)])
    return Notice.objects.get(pk=pk)


@pytest.fixture
def mei():
    return UserFactory(username="mei")


@pytest.fixture
def inbox(mei):
    """Two notices for Mei, one for somebody else."""
    other = UserFactory(username="jun")
    return (notice(mei, "a", "Payment due on 12 March"),
            notice(mei, "b", "Payment overdue: loan 7", day=date(2026, 3, 10)),
            notice(other, "a", "Jun's own reminder"))


def header_count(response):
    match = re.search(r'data-testid="unread-count"[^>]*>(\d+)<', response.content.decode())
    return int(match[1]) if match else 0


def test_the_inbox_shows_only_ones_own_notices_newest_first(client, mei, inbox):
    first, second, others = inbox
    client.force_login(mei)
    response = client.get(reverse("notices"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index(second.subject) < page.index(first.subject)
    assert others.subject not in page
    assert header_count(response) == 2
    assert inline_code_in(page) == []
    assert "no-store" in response["Cache-Control"]


def test_opening_a_notice_marks_it_read_and_the_count_drops(client, mei, inbox):
    first, second, _ = inbox
    client.force_login(mei)
    response = client.get(reverse("notice", args=[first.pk]))
    assert response.status_code == 200
    assert "Payment due on 12 March: the body." in response.content.decode()
    assert header_count(response) == 1
    first.refresh_from_db()
    read_at = first.read_at
    assert read_at is not None
    client.get(reverse("notice", args=[first.pk]))  # opening it again changes nothing
    first.refresh_from_db()
    assert first.read_at == read_at
    assert header_count(client.get(reverse("dashboard"))) == 1
    assert notices_unread_count(mei) == 1


def test_another_customers_notice_is_not_found(client, mei, inbox):
    _, _, others = inbox
    client.force_login(mei)
    assert client.get(reverse("notice", args=[others.pk])).status_code == 404
    assert client.get(reverse("notice", args=[others.pk + 1000])).status_code == 404
    others.refresh_from_db()
    assert others.read_at is None


def test_mark_all_read_by_post_with_csrf(mei, inbox):
    client = Client(enforce_csrf_checks=True)
    client.force_login(mei)
    page = client.get(reverse("notices"))
    assert "Mark all read" in page.content.decode()
    assert client.post(reverse("notices-read-all")).status_code == 403  # no token
    assert client.get(reverse("notices-read-all")).status_code == 405
    assert notices_unread_count(mei) == 2
    token = page.cookies["csrftoken"].value
    response = client.post(reverse("notices-read-all"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == reverse("notices")
    assert notices_unread_count(mei) == 0
    page = client.get(reverse("notices"))
    assert header_count(page) == 0
    assert "Mark all read" not in page.content.decode()
    assert Notice.objects.filter(read_at__isnull=True).count() == 1  # Jun's


def test_the_inbox_needs_a_login(client, inbox):
    response = client.get(reverse("notices"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get(reverse("notice", args=[inbox[0].pk])).status_code == 302


def test_an_empty_inbox(client):
    client.force_login(UserFactory())
    response = client.get(reverse("notices"))
    assert "You have no notices." in response.content.decode()
    assert header_count(response) == 0

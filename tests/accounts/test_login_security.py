"""What an attacker found at the login and sign-up pages, and what holds now: password guessing
locks a login out (django-axes), sign-up tells nobody whether an address or a name exists,
usernames are unique in any letter case, a long address is a form error, sessions are short."""

import importlib
import json
import os
import re
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from axes.exceptions import AxesBackendRequestParameterRequired
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import RISK_MANAGER, RISK_OFFICER
from accounts.services import customer_sign_up, staff_user_create
from accounts.services import sign_up as sign_up_services
from accounts.views import login_client_ip
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
RIGHT = "correct-horse-battery"  # UserFactory's password
NEW_PASSWORD = "Tangerine-kite-42"
LIMIT = settings.AXES_FAILURE_LIMIT
LOCKED = "this account is locked"


def log_in(client, username, password, *, url="login", **extra):
    return client.post(reverse(url), {"username": username, "password": password}, **extra)


def signed_in(client):
    return SESSION_KEY in client.session


def fail(client, username, times, **kwargs):
    return [log_in(client, username, "wrong-password", **kwargs).status_code
            for _ in range(times)]


# 1. Password guessing ------------------------------------------------------------------------

def test_the_limit_is_five_failures_by_default():
    assert LIMIT == 5


def test_failures_below_the_limit_are_the_usual_message_then_the_login_is_locked(client):
    UserFactory(username="zhang")
    for _ in range(LIMIT - 1):
        response = log_in(client, "zhang", "wrong-password")
        assert response.status_code == 200
        assert "Please enter a correct username and password." in response.content.decode()
    locked = log_in(client, "zhang", "wrong-password")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert LOCKED in page
    assert f"locked for {settings.AXES_COOLOFF_TIME * 60:.0f} minutes" in page
    assert "contact customer service" in page
    assert "Traceback" not in page
    # No login form on the locked page (the footer's language switch is a form too).
    assert "<form" not in page.split("<main", 1)[1].split("</main>", 1)[0]


@pytest.mark.parametrize("url, staff", [("login", False), ("admin:login", True)])
def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, url, staff):
    if staff:
        staff_user_create(username="officer", password=RIGHT, role=RISK_OFFICER)
    else:
        UserFactory(username="zhang")
    username = "officer" if staff else "zhang"

    statuses = fail(client, username, 30, url=url)
    assert statuses[:LIMIT - 1] == [200] * (LIMIT - 1)
    assert statuses[LIMIT - 1:] == [429] * (30 - LIMIT + 1)

    response = log_in(client, username, RIGHT, url=url)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not signed_in(client)


def test_rotating_addresses_and_browsers_gets_no_more_guesses(client):
    UserFactory(username="zhang")
    statuses = [log_in(client, "zhang", "wrong-password", REMOTE_ADDR=f"203.0.113.{n}",
                       HTTP_USER_AGENT=f"bot/{n}").status_code for n in range(1, LIMIT + 1)]
    assert statuses == [200] * (LIMIT - 1) + [429]
    response = log_in(client, "zhang", RIGHT, REMOTE_ADDR="198.51.100.7",
                      HTTP_USER_AGENT="a fresh browser")
    assert response.status_code == 429
    assert not signed_in(client)


def test_changing_the_letter_case_of_the_name_gets_no_more_guesses(client):
    UserFactory(username="zhang")
    spellings = ["ZHANG", "Zhang", "zHang", "zhAng", "zhaNg", "zhanG", " zhang "]
    statuses = [log_in(client, name, "wrong-password").status_code
                for name in spellings[:LIMIT]]
    assert statuses == [200] * (LIMIT - 1) + [429]
    assert log_in(client, "zhang", RIGHT).status_code == 429


def test_logins_match_the_username_in_any_case(client):
    UserFactory(username="lin.wei@example.com")
    response = log_in(client, "Lin.Wei@Example.COM", RIGHT)
    assert response.status_code == 302
    assert signed_in(client)


def test_a_name_nobody_has_gets_the_same_answers_as_a_real_one(client):
    """Neither the wrong-password message nor the lockout says whether the name exists."""
    UserFactory(username="zhang")
    real = [log_in(client, "zhang", "wrong-password") for _ in range(LIMIT)]
    other = Client()
    made_up = [log_in(other, "nobody-such", "wrong-password") for _ in range(LIMIT)]
    assert [r.status_code for r in real] == [r.status_code for r in made_up]

    def text(response):
        # The page without its CSRF token, which differs on every page that has a form.
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode()
                      ).replace("nobody-such", "zhang")

    assert text(real[0]) == text(made_up[0])
    assert text(real[-1]) == text(made_up[-1])


def test_a_successful_login_clears_earlier_failures(client):
    UserFactory(username="zhang")
    assert fail(client, "zhang", LIMIT - 1) == [200] * (LIMIT - 1)
    assert log_in(client, "zhang", RIGHT).status_code == 302
    client.post(reverse("logout"))
    assert fail(client, "zhang", LIMIT - 1) == [200] * (LIMIT - 1)
    assert log_in(client, "zhang", RIGHT).status_code == 302


def test_the_lockout_ends_after_the_cool_off_and_the_page_counts_down(client):
    UserFactory(username="zhang")
    fail(client, "zhang", LIMIT)
    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off + timedelta(minutes=7))
    assert "locked for 7 minutes" in log_in(client, "zhang", RIGHT).content.decode()

    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off - timedelta(seconds=1))
    assert log_in(client, "zhang", RIGHT).status_code == 302
    assert signed_in(client)


def test_tries_while_locked_out_do_not_prolong_the_lockout(client):
    UserFactory(username="zhang")
    fail(client, "zhang", LIMIT)
    locked_at = AccessAttempt.objects.get().attempt_time
    fail(client, "zhang", 3)
    log_in(client, "zhang", RIGHT)
    attempt = AccessAttempt.objects.get()
    assert (attempt.attempt_time, attempt.failures_since_start) == (locked_at, LIMIT)


@pytest.mark.parametrize("role", [None, RISK_MANAGER])
def test_a_superuser_or_risk_manager_sees_the_lockout_in_the_admin_and_unlocks_it(client, role):
    UserFactory(username="zhang")
    fail(client, "zhang", LIMIT)
    admin = Client()
    admin.force_login(staff_user_create(username="root", password="x", role=role,
                                        superuser=role is None))
    changelist = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert changelist.status_code == 200
    assert "zhang" in changelist.content.decode()
    assert "Locked Out" in changelist.content.decode()

    attempt = AccessAttempt.objects.get(username="zhang")
    response = admin.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]),
                          {"post": "yes"})
    assert response.status_code == 302
    assert log_in(client, "zhang", RIGHT).status_code == 302
    assert signed_in(client)


def test_a_risk_officer_cannot_unlock(client):
    staff = Client()
    staff.force_login(staff_user_create(username="officer", password="x", role=RISK_OFFICER))
    assert staff.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403


def test_axes_reset_username_unlocks_a_customer(client, capsys):
    UserFactory(username="lin.wei@example.com")
    fail(client, "Lin.Wei@example.com", LIMIT)
    assert log_in(client, "lin.wei@example.com", RIGHT).status_code == 429
    call_command("axes_reset_username", "lin.wei@example.com")
    assert "1 attempts removed." in capsys.readouterr().out
    assert log_in(client, "lin.wei@example.com", RIGHT).status_code == 302


def test_the_client_address_ignores_x_forwarded_for_unless_proxies_are_declared():
    factory = RequestFactory()
    forged = factory.post("/login/", REMOTE_ADDR="10.0.0.2",
                          HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert settings.LOGIN_TRUSTED_PROXY_COUNT == 0
    assert login_client_ip(forged) == "10.0.0.2"
    with override_settings(LOGIN_TRUSTED_PROXY_COUNT=1):
        # The proxy appended the address it was reached from; "1.2.3.4" came from the client.
        assert login_client_ip(forged) == "203.0.113.9"
        assert login_client_ip(factory.post("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"
        assert login_client_ip(factory.post("/", REMOTE_ADDR="10.0.0.2",
                                            HTTP_X_FORWARDED_FOR="not-an-address")) == "10.0.0.2"
    with override_settings(LOGIN_TRUSTED_PROXY_COUNT=2):
        assert login_client_ip(forged) == "1.2.3.4"


@override_settings(LOGIN_TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_a_failure_is_recorded_under_the_forwarded_address(client):
    UserFactory(username="zhang")
    log_in(client, "zhang", "wrong-password", REMOTE_ADDR="10.0.0.2",
           HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert AccessAttempt.objects.get().ip_address == "203.0.113.9"


def test_test_clients_sign_in_with_force_login_or_login_given_a_request(client):
    """axes needs the request to count a login, and Django's test client passes none to
    authenticate(): tests give one (`request=HttpRequest()`) or use force_login."""
    UserFactory(username="zhang")
    with pytest.raises(AxesBackendRequestParameterRequired):
        client.login(username="zhang", password=RIGHT)
    assert client.login(request=HttpRequest(), username="zhang", password=RIGHT)
    assert signed_in(client)
    other = Client()
    other.force_login(User.objects.get(username="zhang"))
    assert other.get(reverse("dashboard")).status_code == 200


# 2. Sign-up tells nobody whether an address or a name exists -----------------------------------

def sign_up_step_one(client, email):
    return client.post(reverse("signup"), {"email": email})


def link_in(message):
    return re.search(r"http://testserver(/signup/confirm/\S+/)", message.body)[1]


def test_sign_up_answers_the_same_whether_or_not_the_address_has_an_account(client):
    fresh = sign_up_step_one(client, "lin.wei@example.com")
    assert "/signup/confirm/" in mail.outbox[-1].body
    customer = UserFactory(username="lin.wei@example.com")
    password_before = customer.password
    taken = sign_up_step_one(Client(), "lin.wei@example.com")
    by_email = UserFactory(username="mei", email="mei@example.com")
    taken_as_email = sign_up_step_one(Client(), "mei@example.com")

    assert fresh.status_code == taken.status_code == taken_as_email.status_code == 200
    # The same page but for the CSRF token of the footer's language switch, which is each
    # browser's own.
    pages = [without_csrf_token(r.content) for r in (fresh, taken, taken_as_email)]
    assert pages[0] == pages[1]
    assert pages[2] == pages[0].replace(b"lin.wei@example.com", b"mei@example.com")

    assert fresh.cookies.keys() == taken.cookies.keys()
    # Nothing was made or changed; each address got mail saying what to do.
    assert User.objects.count() == 2
    customer.refresh_from_db()
    assert customer.password == password_before
    assert [m.to for m in mail.outbox] == [["lin.wei@example.com"], ["lin.wei@example.com"],
                                           ["mei@example.com"]]
    for note in mail.outbox[1:]:
        assert "already an account for this address" in note.body
        assert "/signup/confirm/" not in note.body
    assert by_email.email == "mei@example.com"


def without_csrf_token(content):
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)


def test_staff_names_cannot_be_probed_at_sign_up(client):
    staff_user_create(username="officer", password="x", role=RISK_OFFICER)
    officer = client.post(reverse("signup"), {"email": "officer", "username": "officer"})
    nobody = Client().post(reverse("signup"), {"email": "nobody-such",
                                               "username": "nobody-such"})
    assert officer.status_code == nobody.status_code == 200
    assert "Enter a valid email address." in officer.content.decode()

    def text(response):
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode()
                      ).replace("nobody-such", "officer")

    assert text(officer) == text(nobody)
    assert not mail.outbox
    assert "That username is taken" not in officer.content.decode()


def test_the_link_makes_the_account_and_signs_it_in(client):
    sign_up_step_one(client, "Lin.Wei@Example.com")
    link = link_in(mail.outbox[-1])
    assert not User.objects.exists()
    response = client.post(link, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 302
    user = User.objects.get()
    assert (user.username, user.email) == ("lin.wei@example.com", "Lin.Wei@example.com")
    assert client.session[SESSION_KEY] == str(user.pk)


def test_a_link_used_twice_or_sent_twice_makes_one_account(client):
    sign_up_step_one(client, "lin.wei@example.com")
    sign_up_step_one(client, "lin.wei@example.com")
    first, second = (link_in(message) for message in mail.outbox)
    form = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    assert client.post(first, form).status_code == 302
    again = Client().post(second, form)
    assert again.status_code == 200
    assert "There is already an account for this address" in again.content.decode()
    assert User.objects.count() == 1


# Named ids: a signed token holds the time it was made, and parallel test workers (pytest-xdist)
# must collect the same test names.
@pytest.mark.parametrize("token", [
    "nonsense",
    signing.dumps("lin.wei@example.com", salt="another.purpose"),
], ids=["nonsense", "signed-for-another-purpose"])
def test_a_forged_link_makes_nothing(client, token):
    page = client.get(reverse("signup-confirm", args=[token]))
    assert page.status_code == 200
    assert "not valid or has expired" in page.content.decode()
    response = client.post(reverse("signup-confirm", args=[token]),
                           {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert "not valid or has expired" in response.content.decode()
    assert not User.objects.exists()


def test_a_link_older_than_a_day_makes_nothing(client, monkeypatch):
    sign_up_step_one(client, "lin.wei@example.com")
    link = link_in(mail.outbox[-1])
    monkeypatch.setattr(sign_up_services, "SIGN_UP_LINK_MAX_AGE", timedelta(seconds=-1))
    response = client.post(link, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert "not valid or has expired" in response.content.decode()
    assert not User.objects.exists()


def test_mail_that_cannot_be_sent_is_a_message_whichever_the_address(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(sign_up_services, "send_mail", refuse)
    UserFactory(username="mei@example.com")
    for email in ("lin.wei@example.com", "mei@example.com"):
        response = sign_up_step_one(client, email)
        assert response.status_code == 200
        assert "We could not send the e-mail just now" in response.content.decode()


# 3. Usernames are unique whatever their letter case ---------------------------------------------

def test_the_database_refuses_a_username_differing_only_in_case():
    UserFactory(username="alice")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="ALICE")


def test_the_service_refuses_a_taken_username_in_another_case():
    UserFactory(username="alice")
    with pytest.raises(ValidationError) as raised:
        customer_sign_up(username="Alice", email="alice@example.com", password=NEW_PASSWORD)
    assert raised.value.message_dict == {
        "username": ["An account with this username already exists."]}


def _at_once(*jobs):
    """Run each job in its own thread and database connection; their results or errors."""
    results = [None] * len(jobs)

    def run(i, job):
        try:
            results[i] = job()
        except Exception as error:  # noqa: BLE001 - reported to the test
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _both_pass_the_check_first(monkeypatch):
    """Both sign-ups find the name free before either saves: the race the database decides."""
    barrier = threading.Barrier(2, timeout=20)

    def taken(username):
        barrier.wait()
        return False

    monkeypatch.setattr(sign_up_services, "_login_name_taken", taken)


@pytest.mark.django_db(transaction=True)
def test_two_sign_ups_differing_only_in_case_at_once_make_one_account(monkeypatch):
    _both_pass_the_check_first(monkeypatch)
    results = _at_once(*[
        lambda name=name: customer_sign_up(username=name, email=f"{name}@example.com",
                                           password=NEW_PASSWORD)
        for name in ("Alice", "alice")])
    assert User.objects.filter(username__iexact="alice").count() == 1
    made = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(made) == len(refused) == 1, results
    assert refused[0].message_dict == {
        "username": ["An account with this username already exists."]}


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_make_one_account_and_a_clear_message(monkeypatch):
    links = []
    for email in ("Alice@example.com", "alice@example.com"):
        Client().post(reverse("signup"), {"email": email})
        links.append(link_in(mail.outbox[-1]))
    monkeypatch.setattr(sign_up_services, "_address_taken", lambda address: False)
    _both_pass_the_check_first(monkeypatch)
    form = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    responses = _at_once(*[lambda link=link: Client().post(link, form) for link in links])
    assert sorted(r.status_code for r in responses) == [200, 302], responses
    refused = next(r for r in responses if r.status_code == 200)
    assert "There is already an account for this address" in refused.content.decode()
    assert User.objects.filter(username="alice@example.com").count() == 1


def test_the_migration_names_usernames_that_differ_only_in_case():
    migration = importlib.import_module("accounts.migrations.0004_username_case_insensitive")
    with connection.cursor() as cursor:  # undone when the test's transaction rolls back
        cursor.execute("DROP INDEX user_username_unique_any_case")
    UserFactory(username="Alice")
    UserFactory(username="alice")
    UserFactory(username="bob")
    with connection.schema_editor(atomic=False) as editor:
        from django.apps import apps

        with pytest.raises(RuntimeError, match="differ only in case: Alice, alice. Rename"):
            migration.refuse_usernames_differing_only_in_case(apps, editor)


# 4. A long address ------------------------------------------------------------------------------

# 64 + 1 + 3 x 63 + 2 dots + ".com": a well-formed address of 260 characters.
LONG_ADDRESS = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 63]) + ".com"


def test_a_260_character_address_is_a_form_error_not_a_500(client):
    assert len(LONG_ADDRESS) == 260
    response = client.post(reverse("signup"), {"email": LONG_ADDRESS})
    assert response.status_code == 200
    assert "Ensure this value has at most 254 characters (it has 260)." in (
        response.content.decode())
    assert not mail.outbox


def test_the_services_refuse_a_260_character_address_too():
    with pytest.raises(ValidationError) as raised:
        sign_up_services.sign_up_address_check(LONG_ADDRESS)
    assert raised.value.message_dict["email"] == [
        "An email address has at most 254 characters; this one has 260."]
    with pytest.raises(ValidationError) as raised:
        customer_sign_up(username="longmail", email=LONG_ADDRESS, password=NEW_PASSWORD)
    assert "email" in raised.value.message_dict
    assert not User.objects.exists()


# 5. Sessions ------------------------------------------------------------------------------------

def test_a_session_cookie_lasts_twelve_hours(client):
    UserFactory(username="zhang")
    response = log_in(client, "zhang", RIGHT)
    assert response.status_code == 302
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 12 * 60 * 60
    assert client.session.get_expiry_age() == 12 * 60 * 60


@override_settings(SESSION_COOKIE_AGE=600)
def test_the_session_cookie_follows_the_setting(client):
    UserFactory(username="zhang")
    response = log_in(client, "zhang", RIGHT)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 600


def test_logging_in_gives_a_new_session_key(client):
    UserFactory(username="zhang")
    session = client.session
    session["seen_before_login"] = True
    session.save()
    before = session.session_key
    assert log_in(client, "zhang", RIGHT).status_code == 302
    assert client.session.session_key != before
    assert client.session["seen_before_login"] is True


def test_logging_out_is_a_post_that_ends_the_session(client):
    client.force_login(UserFactory(username="zhang"))
    assert client.get(reverse("logout")).status_code == 405
    assert signed_in(client)
    assert client.post(reverse("logout")).status_code == 302
    assert not signed_in(client)


def test_the_login_settings_come_from_the_environment():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "AXES_COOLOFF_MINUTES": "10", "AXES_FAILURE_LIMIT": "7",
           "SESSION_COOKIE_AGE": "3600", "SESSION_EXPIRE_AT_BROWSER_CLOSE": "true",
           "NUM_PROXIES": "1"}
    script = ("import json, django; django.setup(); from django.conf import settings as s; "
              "from axes.helpers import get_cool_off; print(json.dumps([get_cool_off()"
              ".total_seconds(), s.AXES_FAILURE_LIMIT, s.SESSION_COOKIE_AGE, "
              "s.SESSION_EXPIRE_AT_BROWSER_CLOSE, s.LOGIN_TRUSTED_PROXY_COUNT]))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [600.0, 7, 3600, True, 1]

"""Response headers: every page carries the strict Content-Security-Policy, and a page that
belongs to one person (anything a signed-in user sees, the admin, login and sign-up, a request
with session data or a response that sets a cookie) is `Cache-Control: no-store, private`.

An anonymous request without session data for a public page (the API schema, a 404) is left
cacheable on purpose: it holds nothing personal and sets no cookie, so a proxy may keep it, and
marking every response no-store would only cost the public pages their caching.

The policy allows no inline script or style, so the pages must have none: checked on the HTML
of the customer pages and the admin, and in Chromium, which reports any violation while the
admin's scripts (actions, the sidebar) run."""

import re
from contextlib import contextmanager
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import User
from lending.services import loan_originate, loan_repay
from tests.factories import CreditLineFactory, ProfileFactory, set_business_date

START = date(2026, 1, 31)
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
NEVER_STORED = {"no-store", "no-cache", "must-revalidate", "private", "max-age=0"}


def policy_of(response):
    header = response["Content-Security-Policy"]
    directives = [part.strip().split(None, 1) for part in header.split(";") if part.strip()]
    return {name: value for name, value in directives}


def cache_control(response):
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def assert_private(response):
    assert NEVER_STORED <= cache_control(response), response.get("Cache-Control")
    assert "public" not in cache_control(response)
    assert response.has_header("Expires")


def assert_not_marked_private(response):
    assert not {"no-store", "private"} & cache_control(response), response.get("Cache-Control")


@pytest.fixture
def world(db, bank):
    set_business_date(START)
    line = CreditLineFactory()
    ProfileFactory(user=line.customer)
    loan = loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key="loan", scope="test")
    set_business_date(date(2026, 2, 10))
    loan_repay(loan_id=loan.pk, amount="100.00", idempotency_key="repay", scope="test")
    return line, loan


@pytest.fixture
def customer_client(client, world):
    line, _loan = world
    client.force_login(line.customer)
    return client


def customer_pages(world):
    _line, loan = world
    return [reverse("dashboard"), reverse("borrow"), reverse("loan", args=[loan.pk]),
            reverse("profile"), reverse("apply")]


def admin_pages(world):
    line, loan = world
    pages = [reverse("admin:index"), reverse("admin:lending_creditproduct_add"),
             reverse("admin:lending_creditproduct_change", args=[line.product_id])]
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        obj = model._default_manager.order_by("pk").first()
        if obj is not None and model_admin.has_view_permission:
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    return pages


# Content-Security-Policy --------------------------------------------------------------------------

def test_a_customer_page_is_private_and_strict(customer_client, world):
    for url in customer_pages(world):
        response = customer_client.get(url)
        assert response.status_code == 200, url
        assert policy_of(response) == POLICY, url
        assert_private(response)


def test_an_admin_page_is_private_and_strict(admin_client, world):
    for url in admin_pages(world):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert policy_of(response) == POLICY, url
        assert_private(response)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["login", "signup", "admin:login"])
def test_login_and_sign_up_pages_are_private_whoever_asks(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert policy_of(response) == POLICY
    assert_private(response)
    # A HEAD (what a cache might try first) is no different.
    assert_private(client.head(reverse(name)))


@pytest.mark.django_db
def test_the_api_schema_is_strict_and_public_for_an_anonymous_caller(client):
    response = client.get(reverse("schema"))
    assert response.status_code == 200
    assert policy_of(response) == POLICY
    assert not response.cookies
    assert_not_marked_private(response)


@pytest.mark.django_db
def test_a_404_for_an_anonymous_caller_is_not_marked_private(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert policy_of(response) == POLICY
    assert_not_marked_private(response)


def test_the_api_schema_is_private_for_a_signed_in_user(customer_client):
    response = customer_client.get(reverse("schema"))
    assert response.status_code == 200
    assert_private(response)


@pytest.mark.django_db
def test_an_api_request_with_credentials_is_private(client):
    response = client.get("/api/v1/loans/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert policy_of(response) == POLICY
    assert_private(response)


@pytest.mark.django_db
def test_session_data_makes_an_anonymous_page_private(client):
    session = client.session
    session["seen"] = True
    session.save()
    response = client.get(reverse("schema"))
    assert_private(response)


def test_signing_out_is_private_and_so_is_the_page_after_it(customer_client):
    response = customer_client.post(reverse("logout"))
    assert response.status_code == 302
    assert_private(response)
    assert_private(customer_client.get(response.url))


def test_a_customer_redirected_after_a_form_is_private(customer_client, world):
    _line, loan = world
    response = customer_client.post(reverse("repay", args=[loan.pk]),
                                     {"amount": "1.00", "idempotency_key": "k1"})
    assert response.status_code == 302
    assert_private(response)


# No inline script or style in what the pages send -------------------------------------------------

class InlineFinder(HTMLParser):
    """What a policy without 'unsafe-inline' would block: inline <script> and <style>, style=""
    attributes, on*="" handlers and javascript: URLs. (A data block such as Django's
    json_script, <script type="application/json">, is never run, so the policy allows it.)"""

    SCRIPT_TYPES = {"", "text/javascript", "module", "application/javascript"}

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs:
            if (attrs.get("type") or "").strip().lower() in self.SCRIPT_TYPES:
                self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs.items():
            if name == "style":
                self.found.append(f"style attribute on <{tag}>")
            if name.startswith("on"):
                self.found.append(f"{name} handler on <{tag}>")
            if value and name in ("href", "src", "action", "formaction") and re.match(
                    r"\s*javascript:", value, re.I):
                self.found.append(f"javascript: URL on <{tag}>")


def inline_code_in(html):
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_no_template_of_ours_has_inline_script_or_style():
    """Every page's template, including those no test below renders."""
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 10
    found = {str(t.relative_to(TEMPLATES)): inline_code_in(t.read_text()) for t in templates}
    assert {name: code for name, code in found.items() if code} == {}


def test_customer_pages_have_no_inline_script_or_style(customer_client, world):
    line, loan = world
    responses = [customer_client.get(url) for url in customer_pages(world)]
    responses.append(customer_client.post(reverse("borrow"), {
        "line": line.pk, "amount": "1000", "term_months": "12", "method": "equal_instalment"}))
    responses.append(customer_client.post(reverse("repay", args=[loan.pk]),
                                          {"amount": "abc", "idempotency_key": "k"}))
    for response in responses:
        assert response.status_code == 200
        assert inline_code_in(response.content.decode()) == [], response.request["PATH_INFO"]


@pytest.mark.django_db
def test_public_pages_have_no_inline_script_or_style(client):
    for url in (reverse("login"), reverse("signup"), reverse("admin:login"), "/no-such-page/"):
        assert inline_code_in(client.get(url).content.decode()) == [], url


def test_admin_pages_have_no_inline_script_or_style(admin_client, world):
    line, _loan = world
    responses = [admin_client.get(url) for url in admin_pages(world)]
    # The officer's intermediate action page and a form shown again with its errors.
    responses.append(admin_client.post(reverse("admin:lending_creditline_changelist"), {
        "action": "lower_limit", "index": 0, "_selected_action": line.pk}))
    responses.append(admin_client.post(reverse("admin:lending_creditproduct_add"),
                                       {"allowed_terms": "[0]"}))
    for response in responses:
        assert response.status_code == 200
        assert inline_code_in(response.content.decode()) == [], response.request["PATH_INFO"]


# In a real browser --------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CSP_LISTENER = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@contextmanager
def chromium():
    """Debian's Chromium through Playwright. Its sync API runs an event loop in this thread,
    and an ORM call made while it runs gets a database connection of its own that the test
    database's teardown cannot close: set up rows before, check them after."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def new_page(browser):
    page = browser.new_page()
    page.set_default_timeout(15_000)
    page.add_init_script(CSP_LISTENER)
    page.console_messages = []
    page.on("console", lambda message: page.console_messages.append(message.text))
    return page


def violations(page):
    reported = page.evaluate("window.__violations")
    refused = [text for text in page.console_messages if "Content Security Policy" in text]
    return reported + refused


@pytest.mark.browser
def test_the_admin_and_the_customer_pages_work_under_the_policy(live_server, transactional_db):
    from playwright.sync_api import expect

    set_business_date(START)
    User.objects.create_superuser("root", "root@example.com", "correct-horse-battery")
    line = CreditLineFactory()
    url = live_server.url
    found = []
    with chromium() as browser:
        page = new_page(browser)
        page.goto(f"{url}{reverse('admin:login')}")
        page.get_by_label("Username").fill("root")
        page.get_by_label("Password").fill("correct-horse-battery")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

        # actions.js counts the selected rows: it only runs if the policy lets the script load.
        page.goto(f"{url}{reverse('admin:lending_creditline_changelist')}")
        expect(page.locator(".action-counter")).to_contain_text("0 of 1 selected")
        page.locator("input.action-select").first.check()
        expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")
        page.locator("select[name=action]").select_option("lower_limit")
        page.get_by_role("button", name="Go").click()
        expect(page.get_by_test_id("current-limit")).to_contain_text("50000.00")

        # nav_sidebar.js: the sidebar's filter box hides what does not match.
        page.goto(f"{url}{reverse('admin:lending_creditproduct_change', args=[line.product_id])}")
        page.locator("#nav-filter").fill("journal")
        expect(page.locator("#nav-sidebar tr", has_text="Credit products")).to_be_hidden()
        found += violations(page)

        # The customer's side: the login form, and the dashboard with its stylesheet applied.
        customer = new_page(browser)
        customer.goto(f"{url}{reverse('login')}")
        customer.get_by_label("Username").fill(line.customer.username)
        customer.get_by_label("Password").fill("correct-horse-battery")
        customer.get_by_role("button", name="Log in").click()
        expect(customer.get_by_test_id("credit-line")).to_be_visible()
        header = customer.locator(".site-header")
        assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 92, 173)"
        found += violations(customer)
    assert found == []

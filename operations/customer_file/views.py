"""The customer page in the back office: /admin/customers/<user id>/ (GET), and its "Verify"
button (POST), which recomputes the customer's audit chains and shows the result on the page.

Served through the admin site (`customer_file_register`), so it has the admin's login, staff
check, CSRF protection and no-cache headers."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from accounts.models import CustomerProfile
from core.models import ApprovalRequest
from debt_collection.models import CollectionCase, HardshipRequest
from lending.models import CreditLine, Loan

from .actions import actions_of
from .reads import customer_file_read, may_open
from .timeline import customer_subjects, subjects_verify, subjects_visible, timeline_page

# Running the chain check is an auditor's tool: it reads every event of the customer's chains.
VERIFY_PERMISSION = "core.view_auditevent"


def customer_file_view(request, user_id):
    if not may_open(request.user):
        raise PermissionDenied
    file = customer_file_read(reader=request.user, customer_id=user_id)
    _offer(request, CreditLine, file.lines or [], "line")
    _offer(request, Loan, file.loans, "loan")
    _offer(request, CollectionCase, file.cases or [], "case")
    _offer(request, HardshipRequest, file.hardship_requests or [], "request")
    _offer(request, ApprovalRequest, file.approvals or [], "request")
    subjects = customer_subjects(
        user_id, line_ids=[v.line.pk for v in file.lines or []],
        loan_ids=[v.loan.pk for v in file.loans],
        case_ids=[v.case.pk for v in file.cases or []],
        approval_ids=[v.request.pk for v in file.approvals or []])
    visible = subjects_visible(request.user, subjects)
    may_verify = request.user.has_perm(VERIFY_PERMISSION)
    verification = None
    if request.method == "POST" and "verify" in request.POST:
        if not may_verify:
            raise PermissionDenied
        verification = subjects_verify(visible)
    profile = file.profile.profile
    context = {
        **admin.site.each_context(request),
        "title": profile.full_name if profile else file.profile.user.get_username(),
        "subtitle": "Customer file",
        "file": file,
        "timeline": timeline_page(request.user, visible, request.GET.get("page")),
        "may_verify": may_verify,
        "verification": verification,
        "profile_opts": CustomerProfile._meta,
    }
    return TemplateResponse(request, "admin/operations/customer/file.html", context)


def _offer(request, model, views, attribute):
    """Give each view its object's admin page and the actions offered on it."""
    offered = actions_of(request, model) if views else None
    if offered is None:
        return
    for view in views:
        obj = getattr(view, attribute)
        view.change_url = offered.change_url(obj)
        view.offered = offered.for_object(obj)
        view.changelist_url = offered.changelist_url


def customer_file_urls(site):
    """The page's URLs, to be put before the admin site's own (whose last pattern catches
    every other path)."""
    return [path("customers/<int:user_id>/", site.admin_view(customer_file_view),
                 name="customer_file")]


def customer_file_register(site):
    """Serve the page under `site`'s URLs, as admin:customer_file."""
    site_urls = site.get_urls

    def get_urls():
        return customer_file_urls(site) + site_urls()

    site.get_urls = get_urls

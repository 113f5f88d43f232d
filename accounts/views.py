"""Sign-up and the customer's profile, and what django-axes asks of us for logins (the name a
failure counts against, the client's address, the locked-out page). Logging in and out are
django.contrib.auth's views."""

import ipaddress
import math
from datetime import timedelta

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language

from accounts.forms import ProfileForm, SignUpConfirmForm, SignUpForm
from accounts.languages import language_supported
from accounts.models import CustomerProfile, Notice, User
from accounts.services import customer_profile_save
from accounts.services.language import user_language_set
from accounts.services.notices import (
    notice_mark_read,
    notices_for_customer,
    notices_mark_all_read,
)
from accounts.services.sign_up import (
    customer_sign_up_confirm,
    customer_sign_up_link_address,
    customer_sign_up_request,
)


@require_http_methods(["GET", "POST"])
def sign_up(request):
    """Step 1: an e-mail address. The answer is the same page whether or not the address
    already has an account (accounts.services.sign_up)."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            customer_sign_up_request(
                email=form.cleaned_data["email"],
                confirm_url=lambda token: request.build_absolute_uri(
                    reverse("signup-confirm", args=[token])),
                login_url=request.build_absolute_uri(reverse("login")))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return render(request, "accounts/signup_sent.html",
                          {"email": form.cleaned_data["email"]})
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def sign_up_confirm(request, token):
    """Step 2, from the link in the e-mail: choose a password; the account is made and signed
    in."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    try:
        email = customer_sign_up_link_address(token)
    except ValidationError as error:
        return render(request, "accounts/signup_confirm.html",
                      {"link_error": error.messages[0]})
    form = SignUpConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = customer_sign_up_confirm(token=token, password=form.cleaned_data["password"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! Tell us a little about yourself."))
            return redirect("profile")
    return render(request, "accounts/signup_confirm.html", {"form": form, "email": email})


# django-axes' hooks (config/settings/base.py, "Logins"). ------------------------------------------

def login_attempt_name(request, credentials=None):
    """AXES_USERNAME_CALLABLE: the name a login attempt's failure counts against. Login names
    match in any letter case, so "Officer" and "officer" share one count: an attacker gets no
    extra guesses by changing case."""
    if credentials and User.USERNAME_FIELD in credentials:
        name = credentials[User.USERNAME_FIELD]
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", None) or {}
        name = data.get(User.USERNAME_FIELD)
    if name is None:
        return None
    return User.login_name_key(str(name))


def _ip_or_none(value):
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def login_client_ip(request):
    """AXES_CLIENT_IP_CALLABLE: the client's address, for the records of login attempts.

    With no trusted proxies (LOGIN_TRUSTED_PROXY_COUNT = 0, the default) it is REMOTE_ADDR and
    X-Forwarded-For is ignored, since any client can send that header. Behind N proxies that
    each append the address they were reached from, it is the header's Nth entry from the
    right, the one the outermost proxy wrote; entries further left came from the client. A
    header too short to hold it, or an entry that is not an address, falls back to
    REMOTE_ADDR."""
    proxies = settings.LOGIN_TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                if hop.strip()]
        if len(hops) >= proxies and (address := _ip_or_none(hops[-proxies])):
            return address
    return _ip_or_none(request.META.get("REMOTE_ADDR"))


def login_locked_out(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the page a locked-out login gets (HTTP 429), at /login/ and at
    /admin/login/ alike, saying for how long and who can unlock it sooner. It is shown for any
    name, existing or not, so it tells nothing about which names exist."""
    cool_off = get_cool_off(request)
    minutes = None
    if cool_off is not None:
        remaining = cool_off
        name = login_attempt_name(request, credentials)
        last_failure = (AccessAttempt.objects.filter(username=name)
                        .aggregate(last=Max("attempt_time"))["last"] if name else None)
        if last_failure is not None:
            remaining = min(cool_off, max(last_failure + cool_off - timezone.now(),
                                          timedelta(0)))
        minutes = max(1, math.ceil(remaining.total_seconds() / 60))
    return render(request, "registration/locked_out.html",
                  {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT,
                   "support_contact": settings.SUPPORT_CONTACT},
                  status=settings.AXES_HTTP_RESPONSE_CODE)


def _profile_initial(user):
    profile = CustomerProfile.objects.filter(user=user).first()
    if profile is None:
        return None, {}
    return profile, {name: getattr(profile, name) for name in ProfileForm.base_fields}


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    existing, initial = _profile_initial(request.user)
    form = ProfileForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            customer_profile_save(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("dashboard")
    return render(request, "accounts/profile.html", {"form": form, "existing": existing})


# The customer's inbox of notices (accounts.services.notices). ---------------------------------

NOTICES_PER_PAGE = 20


@login_required
@require_GET
def notices(request):
    page = Paginator(notices_for_customer(request.user), NOTICES_PER_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "accounts/notices/inbox.html", {"page": page})


@login_required
@require_GET
def notice_detail(request, pk):
    """One notice, marked read by opening it. Another customer's notice is not found."""
    try:
        notice = notice_mark_read(customer=request.user, notice_id=pk)
    except Notice.DoesNotExist:
        raise Http404("No such notice.") from None
    return render(request, "accounts/notices/detail.html", {"notice": notice})


@login_required
@require_POST
def notices_read_all(request):
    if notices_mark_all_read(customer=request.user):
        messages.success(request, _("All your notices are marked read."))
    return redirect("notices")


# The language switch in every page's footer. ------------------------------------------------------

@require_POST
def language_switch(request):
    """Django's `set_language` (the language cookie, then back to the page the form was on);
    a signed-in user's choice is also kept on their account, for their next visit on any
    browser and for their notices (accounts.middleware, accounts.languages)."""
    response = set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language_supported(language):
        user_language_set(user=request.user, language=language)
    return response

"""Sign-up and the customer's profile. Logging in and out are django.contrib.auth's views."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import ProfileForm, SignUpForm
from accounts.models import CustomerProfile
from accounts.services import customer_profile_save, customer_sign_up


@require_http_methods(["GET", "POST"])
def sign_up(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = customer_sign_up(username=form.cleaned_data["username"],
                                    email=form.cleaned_data["email"],
                                    password=form.cleaned_data["password"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome! Tell us a little about yourself.")
            return redirect("profile")
    return render(request, "accounts/signup.html", {"form": form})


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
            messages.success(request, "Your profile is saved.")
            return redirect("dashboard")
    return render(request, "accounts/profile.html", {"form": form, "existing": existing})

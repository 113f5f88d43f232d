"""A new customer account, checked by the same rules as Django's own sign-up form."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from accounts.models import User


def customer_sign_up(*, username, email, password) -> User:
    """A new customer account, checked by the same rules as Django's own sign-up form."""
    username = (username or "").strip()
    email = (email or "").strip()
    errors = {}
    if not email:
        errors["email"] = ["An email address is required."]
    else:
        try:
            validate_email(email)
        except ValidationError as error:
            errors["email"] = error.messages
    user = User(username=username, email=email)
    try:
        user.clean_fields(exclude=["password", "email"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if username and User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["That username is taken."]
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Two sign-ups raced for the same name; the unique index let only one through.
        raise ValidationError({"username": ["That username is taken."]}) from None
    return user

"""Customer sign-up, which never tells anyone whether an address or a username already exists.

A customer signs up with their e-mail address, which becomes their username in lower case.
Signing up takes two steps:

1. `customer_sign_up_request(email=...)`: the page always answers "check your e-mail", and
   e-mail is always sent. To a new address goes a link that lasts `SIGN_UP_LINK_MAX_AGE`; to an
   address that already has an account (as its username or its e-mail) goes a note that
   someone tried to sign up with it, and nothing changes. Nothing is written either way, so a
   stranger cannot hold an address by signing it up first.
2. `customer_sign_up_confirm(token=..., password=...)`: whoever opened the link (and so reads
   that mailbox) chooses a password and the account is made.

Only someone reading the mailbox ever learns whether the address had an account. Staff
usernames (`officer`) are not e-mail addresses, so sign-up never compares against them in a
way anyone sees. `customer_sign_up` is the account-making step itself, for the demo seeding
and the second step; no page passes it a name someone typed."""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User

log = logging.getLogger(__name__)

SIGN_UP_LINK_SALT = "accounts.sign_up.link"
SIGN_UP_LINK_MAX_AGE = timedelta(hours=24)
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length

# Lazy: each is read in the language of the page that shows it.
NAME_TAKEN = gettext_lazy("An account with this username already exists.")
ACCOUNT_EXISTS = gettext_lazy("There is already an account for this address, so there is "
                              "nothing to finish: log in with it.")
LINK_INVALID = gettext_lazy("This sign-up link is not valid or has expired (links last 24 "
                            "hours). Sign up again to get a new one.")
SEND_FAILED = gettext_lazy("We could not send the e-mail just now. Please try again in a few "
                           "minutes.")


def _login_name_taken(username) -> bool:
    """Whether a user has this username in any letter case (the database refuses a second
    one too: the unique index on lower(username))."""
    return (User.objects.alias(login_name=Lower("username"))
            .filter(login_name=Lower(models.Value(username, output_field=models.CharField())))
            .exists())


def _address_taken(address) -> bool:
    """Whether an account already uses this address, as its username or as its e-mail."""
    return _login_name_taken(address) or User.objects.filter(email__iexact=address).exists()


def customer_sign_up(*, username, email, password) -> User:
    """A new customer account, checked by the same rules as Django's own sign-up form.

    A username already taken, in any letter case, is a ValidationError on `username` (code
    `username_taken`), also when two sign-ups race for it: the database's unique index lets
    one through and the other's IntegrityError becomes the same error."""
    username = (username or "").strip()
    email = (email or "").strip()
    errors = {}
    if not email:
        errors["email"] = ["An email address is required."]
    user = User(username=username, email=email)
    try:
        # Username characters and length, e-mail form and length (the column holds 254).
        user.clean_fields(exclude=["password"])
    except ValidationError as error:
        errors.update({field: messages for field, messages in error.message_dict.items()
                       if field not in errors})
    if username and "username" not in errors and _login_name_taken(username):
        errors["username"] = [ValidationError(NAME_TAKEN, code="username_taken")]
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
        raise ValidationError(
            {"username": [ValidationError(NAME_TAKEN, code="username_taken")]}) from None
    return user


def sign_up_address_check(email) -> str:
    """The address as it will be stored, or a ValidationError on `email` saying what is wrong
    with it. It becomes the username too, so it must fit that column and its characters."""
    email = (email or "").strip()
    if not email:
        raise ValidationError({"email": [_("An email address is required.")]})
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValidationError({"email": [
            _("An email address has at most %(most)d characters; this one has %(count)d.")
            % {"most": EMAIL_MAX_LENGTH, "count": len(email)}]})
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError({"email": error.messages}) from None
    email = User.objects.normalize_email(email)
    try:
        User.username_validator(User.login_name_key(email))
    except ValidationError:
        raise ValidationError({"email": [
            _("Your address becomes the name you log in with, so it may hold only letters, "
              "digits and @ . + - _. Please use another address.")]}) from None
    if len(User.login_name_key(email)) > User._meta.get_field("username").max_length:
        raise ValidationError({"email": [_("This address is too long to log in with.")]})
    return email


def customer_sign_up_request(*, email, confirm_url: Callable[[str], str], login_url) -> None:
    """Step 1: e-mail `email` a sign-up link, or, when it already has an account, a note that
    someone tried to sign up with it. The caller answers the same whichever was sent.

    `confirm_url(token)` is the absolute address of the page that finishes signing up with
    `token`; `login_url` the absolute address of the login page. A malformed address is a
    ValidationError on `email`; mail that cannot be sent, one without a field."""
    email = sign_up_address_check(email)
    login_name = User.login_name_key(email)
    context = {"email": email, "login_url": login_url,
               "support_contact": settings.SUPPORT_CONTACT,
               "link_hours": int(SIGN_UP_LINK_MAX_AGE.total_seconds() // 3600)}
    if _address_taken(login_name):
        subject = _("Someone tried to sign up with your e-mail address")
        body = render_to_string("accounts/email/sign_up_address_taken.txt", context)
    else:
        token = signing.dumps(email, salt=SIGN_UP_LINK_SALT, compress=True)
        subject = _("Finish creating your account")
        body = render_to_string("accounts/email/sign_up_link.txt",
                                {**context, "confirm_url": confirm_url(token)})
    try:
        send_mail(subject, body, None, [email])
    except OSError:  # smtplib's errors and connection failures alike
        log.exception("Sign-up e-mail could not be sent.")
        raise ValidationError(SEND_FAILED) from None


def customer_sign_up_link_address(token) -> str:
    """The address a sign-up link was sent to, or a ValidationError if the link was not made
    by us or is older than `SIGN_UP_LINK_MAX_AGE`."""
    try:
        return signing.loads(token or "", salt=SIGN_UP_LINK_SALT,
                             max_age=SIGN_UP_LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired included
        raise ValidationError(LINK_INVALID) from None


def customer_sign_up_confirm(*, token, password) -> User:
    """Step 2: the account for the address a sign-up link was sent to, with `password`.

    Whoever holds the link reads that mailbox, so here (and only here) an account already
    made for the address is said so: the link was used twice, or two links were sent before
    either was used. Errors are on `password` or without a field."""
    email = customer_sign_up_link_address(token)
    login_name = User.login_name_key(email)
    if _address_taken(login_name):
        raise ValidationError(ACCOUNT_EXISTS)
    try:
        return customer_sign_up(username=login_name, email=email, password=password)
    except ValidationError as error:
        mapped = {}
        for field, field_errors in error.error_dict.items():
            key = "password" if field == "password" else NON_FIELD_ERRORS
            for item in field_errors:
                mapped.setdefault(key, []).extend(
                    [ACCOUNT_EXISTS] if item.code == "username_taken" else item.messages)
        raise ValidationError(mapped) from None

"""The customer's language, kept on their account (accounts.languages reads it)."""

from core.errors import DomainError

from ..languages import language_supported
from ..models import User


def user_language_set(*, user, language) -> User:
    """Keep `language` (a code of settings.LANGUAGES, or a variant of one) as the language the
    user reads pages and notices in."""
    code = language_supported(language)
    if code is None:
        raise DomainError(f"Unsupported language: {language!r}.", code="unsupported_language")
    if user.language != code:
        user.language = code
        User.objects.filter(pk=user.pk).update(language=code)
    return user


def user_language_keep_from_sign_in(sender, request, user, **kwargs):
    """`user_logged_in`'s receiver: a user signing in for the first time since languages were
    kept has the language the page was in (the browser's, or the one they switched to before
    signing in) kept, so that their notices are in it too. A language already kept stays: it
    is what the middleware shows them."""
    language = getattr(request, "LANGUAGE_CODE", None)
    if not user.language and language:
        user_language_set(user=user, language=language)

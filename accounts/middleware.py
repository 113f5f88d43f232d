"""Which language a page is in (README, "Languages").

Django's LocaleMiddleware, above this one, picks the language from the language cookie or the
browser's Accept-Language. Then, with the user known:

- staff pages (the admin) and the partner API stay in English: their own texts are English
  only, and Django's admin strings would otherwise switch language around them;
- a signed-in user who has a language kept on their account (`User.language`) gets it, on any
  browser, and the language cookie is set to it so that the pages after signing out stay in it.
"""

from django.conf import settings
from django.utils import translation

# Paths whose pages are for staff or partner banks, not customers.
ENGLISH_ONLY_PREFIXES = ("/admin/", "/api/", "/o/")


class CustomerLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        kept = None
        if request.path.startswith(ENGLISH_ONLY_PREFIXES):
            self._activate(request, settings.LANGUAGE_CODE)
        else:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and user.language:
                kept = user.language
                self._activate(request, kept)
        response = self.get_response(request)
        if kept and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != kept:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                kept,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response

    @staticmethod
    def _activate(request, language):
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

"""Private pages are never stored: not by a shared proxy, not in the browser's cache, not in
its back-button history after the customer signs out on a shared phone or computer.

`PrivatePagesMiddleware` marks a response `Cache-Control: no-store` (with `private`,
`no-cache`, `must-revalidate`, `max-age=0` and an `Expires` in the past, for old caches too)
when it belongs to one person:

- the request came from a signed-in user (a customer, staff, or a partner bank's API client
  once the API has authenticated it), or carried an `Authorization` header;
- the request has session data, even without a sign-in (a half-finished flow, a message);
- the response sets a cookie (a session, a CSRF token): a cache would hand it to the next
  person;
- the page is one of `settings.PRIVATE_URL_NAMES`, whoever asks: URL names such as "login",
  or "namespace:" for a whole namespace such as the admin's ("admin:").

Anything else, an anonymous request without session data for a page that sets no cookie (the
API schema, a 404), is left as the view made it: public pages stay cacheable.

It must sit above `SessionMiddleware` and `CsrfViewMiddleware` in `MIDDLEWARE`, so that on the
way out it sees the cookies they set; it reads `request.user` set on the way in by
`AuthenticationMiddleware`. Core imports none of the project's apps: the pages come from
settings."""

from django.conf import settings
from django.utils.cache import add_never_cache_headers


class PrivatePagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_private(request, response):
            add_never_cache_headers(response)
        return response


def is_private(request, response) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    if "HTTP_AUTHORIZATION" in request.META:
        return True
    session = getattr(request, "session", None)
    if session is not None and not session.is_empty() and session.keys():
        return True
    if response.cookies:
        return True
    return _is_private_page(request)


def _is_private_page(request) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return False
    names = getattr(settings, "PRIVATE_URL_NAMES", ())
    if match.view_name in names:
        return True
    return any(f"{namespace}:" in names for namespace in _namespace_prefixes(match.namespaces))


def _namespace_prefixes(namespaces):
    """"a", "a:b" for ["a", "b"]: a nested namespace is private if any enclosing one is."""
    return [":".join(namespaces[:i]) for i in range(1, len(namespaces) + 1)]

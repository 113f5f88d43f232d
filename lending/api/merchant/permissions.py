"""Who may call the merchant API: a token with the checkout scope, issued to the client of an
active merchant. A partner bank's token has neither, and is refused (403)."""

from oauth2_provider.contrib.rest_framework import TokenHasScope

from accounts.services.merchants import merchant_of


def merchant_of_token(token):
    """The merchant an access token speaks for, or None (a partner bank's token, say)."""
    return merchant_of(getattr(token, "application", None))


class IsActiveMerchant(TokenHasScope):
    """An OAuth2 token with the view's `required_scopes`, issued to an active merchant's
    client. Anything but such a token (a session, a partner bank's token) is refused."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        merchant = merchant_of_token(request.auth)
        if merchant is None:
            self.message = "This client is not the API client of a merchant."
            return False
        if not merchant.is_active:
            self.message = "This merchant is not active."
            return False
        return True

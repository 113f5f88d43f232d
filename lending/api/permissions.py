"""Who may read partner data: a client-credentials token of an active partner bank's client."""

from oauth2_provider.contrib.rest_framework import TokenHasScope


def partner_bank_of(token):
    """The bank an access token speaks for, or None when its application is no bank's client.

    Reading `partner_client` on an application without one raises RelatedObjectDoesNotExist,
    which is an AttributeError, so getattr's default covers it. The token was loaded with its
    application, and Django caches the related rows on it: a second call costs no query."""
    application = getattr(token, "application", None)
    api_client = getattr(application, "partner_client", None)
    return api_client.partner_bank if api_client is not None else None


class IsActivePartnerBank(TokenHasScope):
    """An OAuth2 token with the view's `required_scopes`, issued to an active bank's client.

    Anything but an OAuth2 token (a customer's or an officer's session, say) has no scope and
    is refused by TokenHasScope; drf-spectacular reads the scopes from it for the schema."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        bank = partner_bank_of(request.auth)
        if bank is None:
            self.message = "This client is not the API client of a partner bank."
            return False
        if not bank.is_active:
            self.message = "This partner bank is not active."
            return False
        return True

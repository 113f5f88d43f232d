"""What every page's header shows about the signed-in customer."""

from .services.notices import notices_unread_count


def notices(request):
    """The unread count, counted once, and only when a template shows it."""
    user = getattr(request, "user", None)
    counted = []

    def unread():
        if not counted:
            counted.append(notices_unread_count(user))
        return counted[0]

    return {"notices_unread": unread}

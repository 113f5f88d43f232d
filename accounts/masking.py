"""Identity and phone numbers as staff without the right to see them in full see them.

A collector needs the last few characters to confirm who is on the phone, not the whole
number; the permission `accounts.view_unmasked_identity` (on `CustomerProfile`) shows it whole.
Every page that shows a customer's identity number or phone to staff goes through here."""

MASK = "*"
UNMASKED_IDENTITY = "accounts.view_unmasked_identity"


def mask_tail(value: str, keep: int = 4) -> str:
    """All but the last `keep` characters of `value` replaced by "*", its length kept.

    An empty value stays empty; a value no longer than `keep` has nothing to hide before its
    tail and is returned as it is."""
    value = value or ""
    hidden = max(len(value) - keep, 0)
    return MASK * hidden + value[hidden:]


def identity_visible(user) -> bool:
    """Whether `user` may see identity and phone numbers unmasked."""
    return user.has_perm(UNMASKED_IDENTITY)


def identity_for(user, value: str) -> str:
    """`value` as `user` may see it: whole, or masked but for its last four characters."""
    return value if identity_visible(user) else mask_tail(value)

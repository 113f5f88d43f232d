"""Collections' errors: each says in plain words why a collector's or manager's request was
refused, for the admin form to show."""

from core.errors import DomainError


class CollectionError(DomainError):
    code = "collection_refused"


class NotYourCase(CollectionError):
    """A collector acting on a case assigned to someone else, without the right to reassign."""

    code = "not_your_case"

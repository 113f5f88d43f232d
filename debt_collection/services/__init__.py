"""Collections' services: the one write path for cases, contacts and promises to pay
(docs/architecture.md, "One write path"). The close's set-based work is in `case_sync` and
`promises`; the officers' actions are below."""

from .cases import collection_case_reassign
from .contacts import collection_contact_log
from .promises import promise_to_pay_make

__all__ = ["collection_case_reassign", "collection_contact_log", "promise_to_pay_make"]

"""Text messages (SMS) to customers: a backend interface, as Django's e-mail backends are, with
no provider wired yet.

`settings.SMS_BACKEND` names the backend class by dotted path; None (the default) means no text
message is sent at all. A provider's backend subclasses `BaseSmsBackend` and implements
`send_messages`. `LocmemSmsBackend` keeps messages in `outbox` for tests; `ConsoleSmsBackend`
prints them, for development."""

import sys
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

# What LocmemSmsBackend has "sent", as Django's locmem e-mail backend keeps mail.outbox.
outbox: list["SmsMessage"] = []


@dataclass(frozen=True)
class SmsMessage:
    to: str  # a phone number as the customer gave it
    body: str


class BaseSmsBackend:
    """A provider's gateway. `send_messages` sends what it can and returns how many it sent."""

    def __init__(self, fail_silently: bool = False, **kwargs):
        self.fail_silently = fail_silently

    def send_messages(self, messages) -> int:
        raise NotImplementedError("An SMS backend must implement send_messages(messages).")


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps messages in `accounts.sms.outbox` (tests)."""

    def send_messages(self, messages) -> int:
        messages = list(messages)
        outbox.extend(messages)
        return len(messages)


class ConsoleSmsBackend(BaseSmsBackend):
    """Prints messages on standard output (development)."""

    _lock = threading.Lock()

    def __init__(self, *args, stream=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.stdout

    def send_messages(self, messages) -> int:
        count = 0
        with self._lock:
            for message in messages:
                self.stream.write(f"SMS to {message.to}:\n{message.body}\n{'-' * 40}\n")
                count += 1
            self.stream.flush()
        return count


def sms_backend(**kwargs) -> BaseSmsBackend | None:
    """The configured backend, or None when settings.SMS_BACKEND is None (no SMS is sent)."""
    path = getattr(settings, "SMS_BACKEND", None)
    if not path:
        return None
    return import_string(path)(**kwargs)


def sms_send_many(messages) -> int:
    """Send text messages through the configured backend; with none configured, send nothing
    and return 0."""
    messages = list(messages)
    backend = sms_backend()
    if backend is None or not messages:
        return 0
    return backend.send_messages(messages)

"""The SMS channel's backend interface (accounts/sms.py): no provider is wired."""

import io

import pytest

from accounts import sms


def test_no_backend_sends_nothing(settings):
    settings.SMS_BACKEND = None
    assert sms.sms_backend() is None
    assert sms.sms_send_many([sms.SmsMessage(to="13800000000", body="Hi")]) == 0


def test_the_locmem_backend_keeps_messages(settings):
    settings.SMS_BACKEND = "accounts.sms.LocmemSmsBackend"
    sms.outbox.clear()
    message = sms.SmsMessage(to="13800000000", body="Your payment is due on 3 March.")
    assert sms.sms_send_many([message]) == 1
    assert sms.outbox == [message]
    sms.outbox.clear()


def test_the_console_backend_prints_and_the_base_is_an_interface():
    stream = io.StringIO()
    backend = sms.ConsoleSmsBackend(stream=stream)
    assert backend.send_messages([sms.SmsMessage(to="138", body="Hello")]) == 1
    assert "SMS to 138:\nHello" in stream.getvalue()
    with pytest.raises(NotImplementedError):
        sms.BaseSmsBackend().send_messages([])

"""Credentials for a bank: the service, the management command, and the token they lead to."""

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from oauth2_provider.models import get_application_model

from accounts.models import PartnerApiClient, PartnerBank
from accounts.services import partner_client_create
from tests.api.conftest import request_token

Application = get_application_model()


def test_a_client_is_a_confidential_client_credentials_application_of_the_bank(bank_a):
    credentials = partner_client_create(partner_bank=bank_a, name="Bank A loan tape")
    application = Application.objects.get(client_id=credentials.client_id)
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    assert application.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    assert application.user is None
    assert application.name == "Bank A loan tape"
    assert PartnerApiClient.objects.get(application=application).partner_bank == bank_a
    assert credentials.api_client.application == application


def test_only_a_hash_of_the_secret_is_stored_and_the_repr_hides_it(bank_a):
    credentials = partner_client_create(partner_bank=bank_a, name="Bank A")
    stored = Application.objects.get(client_id=credentials.client_id).client_secret
    assert stored != credentials.client_secret
    assert check_password(credentials.client_secret, stored)
    assert credentials.client_secret not in repr(credentials)


def test_a_blank_name_is_refused(bank_a):
    with pytest.raises(ValueError, match="name"):
        partner_client_create(partner_bank=bank_a, name="  ")
    assert not Application.objects.exists()


def test_the_secret_gets_a_token_with_the_default_scope_and_a_wrong_one_does_not(bank_a):
    credentials = partner_client_create(partner_bank=bank_a, name="Bank A")
    response = request_token(credentials.client_id, credentials.client_secret)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "loans:read"
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body

    # A different last character (replacing an "x" by "x" would be the same secret).
    last = credentials.client_secret[-1]
    wrong = request_token(credentials.client_id,
                          credentials.client_secret[:-1] + ("y" if last == "x" else "x"))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


def parse_command_output(output):
    fields = dict(line.split(":", 1) for line in output.splitlines() if ":" in line)
    return fields["client_id"].strip(), fields["client_secret"].strip()


def test_the_command_prints_credentials_that_work_once(bank_a, capsys):
    call_command("create_partner_client", "--bank", "bank-a", "--name", "Bank A back end")
    out = capsys.readouterr().out
    client_id, secret = parse_command_output(out)
    assert "cannot be shown again" in out
    client = PartnerApiClient.objects.select_related("application").get()
    assert (client.partner_bank, client.application.name) == (bank_a, "Bank A back end")
    assert client.application.client_id == client_id
    assert request_token(client_id, secret).status_code == 200


def test_the_command_names_the_client_after_the_bank_by_default(bank_a, capsys):
    call_command("create_partner_client", "--bank", "bank-a")
    assert PartnerApiClient.objects.get().application.name == "Bank bank-a API client"


def test_the_command_rejects_an_unknown_bank_and_lists_the_known_ones(bank_a):
    with pytest.raises(CommandError, match="No partner bank has the code 'nope'.*bank-a"):
        call_command("create_partner_client", "--bank", "nope")
    assert not Application.objects.exists()


def test_the_command_warns_that_an_inactive_banks_tokens_are_refused(bank_a, capsys):
    PartnerBank.objects.filter(pk=bank_a.pk).update(is_active=False)
    call_command("create_partner_client", "--bank", "bank-a")
    assert "inactive" in capsys.readouterr().err

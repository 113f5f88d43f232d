import pytest

from tests.factories import CreditLineFactory, partner_bank


@pytest.fixture
def bank(db):
    return partner_bank()


@pytest.fixture
def line(db, bank):
    return CreditLineFactory()

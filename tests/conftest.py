import pytest

from accounts.roles import staff_roles_ensure
from lending.services import business_date_ensure, chart_of_accounts_ensure
from tests.factories import CreditLineFactory, partner_bank


@pytest.fixture(autouse=True)
def reference_data(request):
    """Rows the migrations create (business date, chart of accounts, staff roles).

    A transactional test empties every table when it ends, so each database test puts them back
    instead of relying on the migrations having run just before it."""
    uses_db = ("_django_db_helper" in request.fixturenames
               or request.node.get_closest_marker("django_db"))
    if not uses_db:
        return
    request.getfixturevalue("_django_db_helper")
    business_date_ensure()
    chart_of_accounts_ensure()
    staff_roles_ensure()


@pytest.fixture
def bank(db):
    return partner_bank()


@pytest.fixture
def line(db, bank):
    return CreditLineFactory()

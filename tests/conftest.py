import pytest
from django.contrib.auth.models import Group

from accounts.roles import ROLE_PERMISSIONS, staff_roles_ensure
from core.calendar import business_date_ensure
from lending.models import LedgerAccount
from lending.services import chart_of_accounts_ensure
from tests.factories import CreditLineFactory, partner_bank


@pytest.fixture(autouse=True)
def reference_data(request):
    """Rows the migrations create (business date, chart of accounts, staff roles), made once
    and kept: a test's transaction rolls back to them. Only a transactional test empties every
    table when it ends, so the next test finds them missing and puts them back."""
    uses_db = ("_django_db_helper" in request.fixturenames
               or request.node.get_closest_marker("django_db"))
    if not uses_db:
        return
    request.getfixturevalue("_django_db_helper")
    if not LedgerAccount.objects.exists():
        business_date_ensure()
        chart_of_accounts_ensure()
    if Group.objects.filter(name__in=ROLE_PERMISSIONS).count() != len(ROLE_PERMISSIONS):
        staff_roles_ensure()


@pytest.fixture
def bank(db):
    return partner_bank()


@pytest.fixture
def line(db, bank):
    return CreditLineFactory()

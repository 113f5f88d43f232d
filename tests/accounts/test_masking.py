"""Identity and phone numbers masked for staff without `accounts.view_unmasked_identity`."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.masking import identity_visible, mask_tail
from tests.factories import ProfileFactory, UserFactory

ID_NUMBER = "110101199003077777"
PHONE = "13812345678"


def test_mask_tail_keeps_the_last_four_and_the_length():
    assert mask_tail(ID_NUMBER) == "**************7777"
    assert mask_tail(PHONE) == "*******5678"
    assert mask_tail(PHONE, keep=2) == "*********78"


def test_mask_tail_of_short_and_empty_values():
    assert mask_tail("") == ""
    assert mask_tail(None) == ""
    assert mask_tail("1234") == "1234"
    assert mask_tail("12345") == "*2345"


def staff(*codenames):
    """A staff member holding exactly these accounts permissions."""
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="accounts",
                                                        codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def customer(db):
    return ProfileFactory(id_number=ID_NUMBER, user__phone=PHONE)


@pytest.mark.django_db
def test_identity_visible_follows_the_permission():
    _, plain = staff("view_customerprofile")
    _, trusted = staff("view_customerprofile", "view_unmasked_identity")
    assert not identity_visible(plain)
    assert identity_visible(trusted)


def test_profile_page_masks_the_identity_number_without_the_permission(customer):
    url = reverse("admin:accounts_customerprofile_change", args=[customer.pk])
    client, _ = staff("view_customerprofile")
    page = client.get(url).content.decode()
    assert "**************7777" in page
    assert ID_NUMBER not in page

    client, _ = staff("view_customerprofile", "view_unmasked_identity")
    assert ID_NUMBER in client.get(url).content.decode()


def test_user_list_and_page_mask_the_phone_without_the_permission(customer):
    client, _ = staff("view_user")
    listing = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    page = client.get(reverse("admin:accounts_user_change", args=[customer.user.pk]))
    for html in (listing, page.content.decode()):
        assert "*******5678" in html
        assert PHONE not in html

    client, _ = staff("view_user", "view_unmasked_identity")
    assert PHONE in client.get(reverse("admin:accounts_user_changelist")).content.decode()


def test_a_masked_phone_cannot_be_changed(customer):
    client, _ = staff("view_user", "change_user")
    url = reverse("admin:accounts_user_change", args=[customer.user.pk])
    form = client.get(url).context["adminform"].form
    assert "phone" not in form.fields
    assert PHONE not in client.get(url).content.decode()


def test_no_search_by_phone_without_the_permission(customer):
    changelist = reverse("admin:accounts_user_changelist")
    client, _ = staff("view_user")
    assert client.get(changelist, {"q": PHONE}).context["cl"].result_count == 0
    client, _ = staff("view_user", "view_unmasked_identity")
    assert client.get(changelist, {"q": PHONE}).context["cl"].result_count == 1

"""Sign-up, log-in, log-out and the profile page, and the customer services behind them."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.cities import city_tier
from accounts.identity import (
    IdNumberInvalid,
    id_number_check_character,
    id_number_make,
    id_number_parse,
    region_name,
)
from accounts.models import CustomerProfile, User
from accounts.services import customer_profile_save, customer_sign_up
from tests.factories import ProfileFactory, UserFactory, set_business_date

pytestmark = pytest.mark.django_db

PASSWORD = "Tangerine-kite-42"
BUSINESS_DAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def business_day(reference_data):
    set_business_date(BUSINESS_DAY)


def password_form(**overrides):
    return {"password": PASSWORD, "password_again": PASSWORD, **overrides}


def sign_up_link(client, email="lin.wei@example.com"):
    """Step 1 of signing up; the path of the link in the e-mail it sends."""
    response = client.post(reverse("signup"), {"email": email})
    assert response.status_code == 200
    assert "Check your e-mail" in response.content.decode()
    return re.search(r"http://testserver(/signup/confirm/\S+/)", mail.outbox[-1].body)[1]


def sign_up(client, email="lin.wei@example.com", **overrides):
    """Both steps: the address, then the password on the e-mailed link's page."""
    return client.post(sign_up_link(client, email), password_form(**overrides))


# Lin Wei's number: born 1990-05-17, sequence 123 (odd: a man).
LIN_WEI_ID = id_number_make(region="330106", birth_date=date(1990, 5, 17), sequence=123)
# The worked example of GB 11643: a woman born 1949-12-31 in Beijing, check character X.
STANDARD_EXAMPLE_ID = "11010519491231002X"


def profile_form(**overrides):
    return {"full_name": "Lin Wei", "birth_date": "1990-05-17", "monthly_income": "15000.50",
            "employment_status": "employed", "employer_months": "30", "city": "Hangzhou",
            "housing": "rented", "monthly_debt_payments": "1200", "id_number": LIN_WEI_ID,
            "consent_credit_check": "on", "consent_data_use": "on", **overrides}


def profile_fields(**overrides):
    return {"full_name": "Lin Wei", "birth_date": date(1990, 5, 17),
            "monthly_income": Decimal("15000.50"), "employment_status": "employed",
            "employer_months": 30, "city": "Hangzhou", "housing": "rented",
            "monthly_debt_payments": Decimal("1200.00"), "id_number": LIN_WEI_ID,
            "consent_credit_check": True, "consent_data_use": True, **overrides}


def test_sign_up_then_profile_then_dashboard(client):
    page = client.get(reverse("signup"))
    assert page.status_code == 200
    assert b'name="email"' in page.content

    link = sign_up_link(client)
    assert mail.outbox[-1].to == ["lin.wei@example.com"]
    page = client.get(link)
    assert page.status_code == 200
    assert b'name="password_again"' in page.content
    assert not User.objects.exists()
    response = client.post(link, password_form())
    assert response.status_code == 302
    assert response.url == reverse("profile")
    user = User.objects.get(username="lin.wei@example.com")
    assert user.email == "lin.wei@example.com"
    assert user.check_password(PASSWORD)

    assert client.get(reverse("profile")).status_code == 200
    response = client.post(reverse("profile"), profile_form())
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    profile = CustomerProfile.objects.get(user=user)
    assert profile.monthly_income == Decimal("15000.50")
    assert profile.birth_date == date(1990, 5, 17)
    assert profile.employer_months == 30
    assert profile.consent_credit_check and profile.consent_data_use
    assert (profile.housing, profile.monthly_debt_payments) == ("rented", Decimal("1200.00"))
    assert (profile.id_number, profile.identity_verified, profile.gender) == (
        LIN_WEI_ID, True, "male")
    assert profile.city_tier == 2

    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Your profile is saved." in dashboard
    assert "You have no credit line yet." in dashboard
    assert "Apply for credit</a>" in dashboard
    assert "Borrow cash</a>" not in dashboard


def test_a_new_customer_without_profile_is_asked_for_one(client):
    sign_up(client)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Fill in your profile" in dashboard
    assert "You have no credit line yet." in dashboard


@pytest.mark.parametrize("email, message", [
    ("not-an-address", "Enter a valid email address."),
    ("", "This field is required."),
    ("o'brien@example.com", "it may hold only letters, digits and @ . + - _"),
])
def test_a_bad_address_is_a_form_message_and_sends_nothing(client, email, message):
    response = client.post(reverse("signup"), {"email": email})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not mail.outbox
    assert not User.objects.exists()


@pytest.mark.parametrize("overrides, message", [
    ({"password_again": "Tangerine-kite-43"}, "The two passwords differ."),
    ({"password": "12345678", "password_again": "12345678"}, "This password is too common."),
    ({"password": "Ab1-x", "password_again": "Ab1-x"}, "This password is too short."),
    ({"password": "linwei-example", "password_again": "linwei-example"},
     "The password is too similar to the username."),
])
def test_sign_up_shows_what_is_wrong_and_creates_no_user(client, overrides, message):
    response = sign_up(client, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()
    assert "_auth_user_id" not in client.session


def test_every_password_problem_is_reported_at_once(client):
    page = sign_up(client, password="12345678", password_again="12345678").content.decode()
    assert "This password is too common." in page
    assert "This password is entirely numeric." in page


def test_signing_up_with_a_taken_address_in_any_case_makes_no_account(client):
    UserFactory(username="Lin.Wei@Example.com")
    response = client.post(reverse("signup"), {"email": "lin.wei@example.com"})
    assert "Check your e-mail" in response.content.decode()
    assert "already an account for this address" in mail.outbox[-1].body
    assert User.objects.count() == 1


def test_log_in_through_the_login_page_and_log_out_with_a_post(client):
    user = UserFactory(username="zhang")
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "zhang",
                                              "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert client.session["_auth_user_id"] == str(user.pk)

    page = client.get(reverse("dashboard")).content.decode()
    assert 'action="/logout/"' in page
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_is_a_form_message(client):
    UserFactory(username="zhang")
    response = client.post(reverse("login"), {"username": "zhang", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()


def test_the_header_shows_the_business_date_and_the_user(client):
    client.force_login(UserFactory(username="zhang"))
    page = client.get(reverse("dashboard")).content.decode()
    assert "Credit platform" in page
    assert "2026-03-10" in page
    assert "<strong>zhang</strong>" in page
    assert '<meta name="viewport"' in page


def test_the_profile_page_shows_the_saved_profile_for_editing(client):
    profile = ProfileFactory(full_name="Chen Jie", monthly_income=Decimal("8800.00"))
    client.force_login(profile.user)
    page = client.get(reverse("profile")).content.decode()
    assert 'value="Chen Jie"' in page
    assert 'value="8800.00"' in page

    response = client.post(reverse("profile"), profile_form(full_name="Chen Jie",
                                                            city="Chengdu",
                                                            consent_data_use=""))
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.city == "Chengdu"
    assert profile.consent_data_use is False
    assert CustomerProfile.objects.count() == 1


@pytest.mark.parametrize("overrides, message", [
    ({"birth_date": "2008-03-11"}, "You must be at least 18 years old."),
    ({"birth_date": "2027-01-01"}, "The date of birth is in the future."),
    ({"birth_date": "1990-02-30"}, "Enter a valid date."),
    ({"monthly_income": "-1"}, "Ensure this value is greater than or equal to 0."),
    ({"monthly_income": "lots"}, "Enter a number."),
    ({"monthly_income": "100.123"}, "Ensure that there are no more than 2 decimal places."),
    ({"monthly_income": "12,5"}, "Enter a number."),
    ({"monthly_income": "NaN"}, "Enter a number."),
    ({"full_name": "   "}, "This field is required."),
    ({"employment_status": "astronaut"}, "Select a valid choice."),
    ({"employer_months": "-3"}, "Ensure this value is greater than or equal to 0."),
    ({"employer_months": "2.5"}, "Enter a whole number."),
    ({"housing": ""}, "This field is required."),
    ({"housing": "castle"}, "Select a valid choice."),
    ({"monthly_debt_payments": "-1"}, "Ensure this value is greater than or equal to 0."),
    ({"monthly_debt_payments": "a lot"}, "Enter a number."),
    ({"id_number": ""}, "This field is required."),
    ({"id_number": LIN_WEI_ID[:17] + ("0" if LIN_WEI_ID[17] != "0" else "1")},
     "last character does not match the others"),
    ({"id_number": "33010619900517123"}, "An identity number has 18 characters"),
    ({"id_number": "3301061990051712A"}, "An identity number has 18 characters"),
    ({"id_number": id_number_make(region="330106", birth_date=date(1991, 5, 17),
                                  sequence=123)},
     "belongs to someone born on 1991-05-17, not on the date of birth you gave"),
    # A right check character and birth date, but a region that is no region of China: never
    # listed at all, or made-up county digits under a real prefecture (杭州, 3301).
    ({"id_number": "99999919900517123" + id_number_check_character("99999919900517123")},
     "begins with 999999, which is not the code of any county or city of China"),
    ({"id_number": "33019919900517123" + id_number_check_character("33019919900517123")},
     "begins with 330199, which is not the code of any county or city of China"),
])
def test_bad_profile_input_is_a_form_message_and_saves_nothing(client, overrides, message):
    client.force_login(UserFactory())
    response = client.post(reverse("profile"), profile_form(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CustomerProfile.objects.exists()


def test_every_profile_problem_is_shown_at_once(client):
    client.force_login(UserFactory())
    response = client.post(reverse("profile"), profile_form(birth_date="2010-01-01",
                                                            monthly_income="-3"))
    page = response.content.decode()
    assert "You must be at least 18 years old." in page
    assert "Ensure this value is greater than or equal to 0." in page


def test_turning_18_on_the_business_date_is_old_enough(client):
    client.force_login(UserFactory())
    response = client.post(reverse("profile"), profile_form(
        birth_date="2008-03-10",
        id_number=id_number_make(region="330106", birth_date=date(2008, 3, 10), sequence=1)))
    assert response.status_code == 302
    assert CustomerProfile.objects.get().birth_date == date(2008, 3, 10)


def test_a_bad_edit_leaves_the_saved_profile_alone(client):
    profile = ProfileFactory(monthly_income=Decimal("8800.00"))
    client.force_login(profile.user)
    client.post(reverse("profile"), profile_form(monthly_income="-5"))
    profile.refresh_from_db()
    assert profile.monthly_income == Decimal("8800.00")


@pytest.mark.parametrize("url", ["dashboard", "profile"])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(reverse(url))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse(url)}"


def test_a_signed_in_customer_visiting_sign_up_goes_to_the_dashboard(client):
    client.force_login(UserFactory())
    assert client.get(reverse("signup")).url == reverse("dashboard")


# The services: every caller gets the same rules, not only the pages.

def test_customer_sign_up_checks_password_strength():
    with pytest.raises(ValidationError) as raised:
        customer_sign_up(username="wang", email="wang@example.com", password="password")
    assert "password" in raised.value.message_dict
    assert not User.objects.filter(username="wang").exists()


def test_customer_profile_save_creates_then_replaces():
    user = UserFactory()
    first = customer_profile_save(user=user, **profile_fields())
    second = customer_profile_save(user=user, **profile_fields(city="Wuhan",
                                                                monthly_income="9000"))
    assert first.pk == second.pk
    second.refresh_from_db()
    assert (second.city, second.monthly_income) == ("Wuhan", Decimal("9000.00"))


@pytest.mark.parametrize("overrides, field", [
    ({"monthly_income": 15000.5}, "monthly_income"),
    ({"monthly_income": Decimal("-0.01")}, "monthly_income"),
    ({"monthly_income": "1.005"}, "monthly_income"),
    ({"birth_date": date(2010, 1, 1)}, "birth_date"),
    ({"birth_date": "1990-05-17"}, "birth_date"),
    ({"employment_status": "pirate"}, "employment_status"),
    ({"employer_months": True}, "employer_months"),
    ({"consent_data_use": "yes"}, "consent_data_use"),
    ({"city": ""}, "city"),
    ({"housing": "tent"}, "housing"),
    ({"monthly_debt_payments": 10.5}, "monthly_debt_payments"),
    ({"monthly_debt_payments": "-3"}, "monthly_debt_payments"),
    ({"id_number": "11010519491231002Y"}, "id_number"),
    ({"id_number": "110105194912310021"}, "id_number"),
    ({"id_number": 110105194912310021}, "id_number"),
])
def test_customer_profile_save_refuses_bad_values(overrides, field):
    with pytest.raises(ValidationError) as raised:
        customer_profile_save(user=UserFactory(), **profile_fields(**overrides))
    assert field in raised.value.message_dict
    assert not CustomerProfile.objects.exists()


def test_customer_profile_save_wants_every_field_and_no_other():
    fields = profile_fields()
    del fields["city"]
    with pytest.raises(TypeError):
        customer_profile_save(user=UserFactory(), **fields)
    with pytest.raises(TypeError):
        customer_profile_save(user=UserFactory(), **profile_fields(), nickname="x")



# The profile's derived fields: identity, gender and city tier.

def test_the_standard_example_number_is_well_formed():
    parsed = id_number_parse(STANDARD_EXAMPLE_ID.lower())
    assert (parsed.number, parsed.birth_date, parsed.male) == (
        STANDARD_EXAMPLE_ID, date(1949, 12, 31), False)


@pytest.mark.parametrize("number, message", [
    ("11010519491231002", "18 characters"),
    ("1101051949123100211", "18 characters"),
    ("11010519491231002x0", "18 characters"),
    ("110105194912310029", "last character does not match"),
    # 1949-13-32, with the right check character, so that only the date is wrong.
    ("11010519491332002" + id_number_check_character("11010519491332002"), "not a real date"),
])
def test_malformed_numbers_say_why(number, message):
    with pytest.raises(IdNumberInvalid, match=message):
        id_number_parse(number)


def test_a_region_that_does_not_exist_is_refused_by_the_service_too():
    number = "00000019900517123" + id_number_check_character("00000019900517123")
    with pytest.raises(IdNumberInvalid, match="begins with 000000"):
        id_number_parse(number)
    with pytest.raises(ValidationError) as refused:
        customer_profile_save(user=UserFactory(), **profile_fields(id_number=number))
    assert "not the code of any county or city of China" in \
        refused.value.message_dict["id_number"][0]
    assert not CustomerProfile.objects.exists()


@pytest.mark.parametrize("region, name", [
    # The demo's, the simulator's and the tests' regions.
    ("310101", "黄浦区"), ("330106", "西湖区"), ("320302", "鼓楼区"), ("330523", "安吉县"),
    ("110105", "朝阳区"), ("110101", "东城区"),
    # Abolished since, still on real cards: 崇文区 (merged in 2010), 上海 南市区 (2000).
    ("110103", "崇文区"), ("310102", "南市区"),
    # A city without counties issues under its own code.
    ("441900", "东莞市"),
])
def test_current_and_abolished_regions_are_real(region, name):
    assert region_name(region) == name
    number = id_number_make(region=region, birth_date=date(1990, 5, 17), sequence=123)
    assert id_number_parse(number).region == region
    profile = customer_profile_save(user=UserFactory(), **profile_fields(id_number=number))
    assert profile.identity_verified


@pytest.mark.parametrize("region", ["110000", "999999", "330199", "000000"])
def test_a_province_or_a_made_up_code_is_no_region(region):
    assert region_name(region) is None
    with pytest.raises(ValueError, match="not a region code"):
        id_number_make(region=region, birth_date=date(1990, 5, 17), sequence=1)


def test_a_number_born_on_another_day_is_saved_unverified_with_its_gender():
    other_day = id_number_make(region="330106", birth_date=date(1990, 5, 18), sequence=124)
    profile = customer_profile_save(user=UserFactory(), **profile_fields(id_number=other_day))
    assert (profile.identity_verified, profile.gender) == (False, "female")


def test_a_blank_number_is_unverified_and_gender_unstated():
    profile = customer_profile_save(user=UserFactory(), **profile_fields(id_number=""))
    assert (profile.id_number, profile.identity_verified, profile.gender) == (
        "", False, "unstated")


def test_spaces_and_a_small_x_are_tidied_before_saving():
    profile = customer_profile_save(
        user=UserFactory(), **profile_fields(birth_date=date(1949, 12, 31),
                                             id_number=" 110105 19491231 002x "))
    assert (profile.id_number, profile.identity_verified, profile.gender) == (
        STANDARD_EXAMPLE_ID, True, "female")


@pytest.mark.parametrize("city, tier", [
    ("Beijing", 1), ("SHANGHAI", 1), ("guangzhou", 1), ("深圳", 1), ("北京市", 1),
    ("Chengdu", 2), ("Xi'an", 2), ("xian", 2), ("西安", 2), ("Hangzhou City", 2),
    ("Kunming", 2), ("Yiwu", 3), ("Lishui", 3), ("义乌", 3),
    ("Anji County", 4), ("安吉县", 4), ("wuyuan county", 4),
])
def test_city_tiers(city, tier):
    assert city_tier(city) == tier


def test_the_city_tier_follows_the_city_on_every_save():
    user = UserFactory()
    assert customer_profile_save(user=user, **profile_fields(city="Beijing")).city_tier == 1
    assert customer_profile_save(user=user, **profile_fields(city="Yiwu")).city_tier == 3


def test_the_profile_page_says_whether_the_identity_is_verified(client):
    profile = ProfileFactory(identity_verified=False)
    client.force_login(profile.user)
    assert "Identity not verified" in client.get(reverse("profile")).content.decode()
    client.post(reverse("profile"), profile_form())
    assert "Identity verified" in client.get(reverse("profile")).content.decode()

"""Customer forms. They parse and check what was typed; the services apply the business rules
(password strength, unique names, one customer per identity number, age) and their
`ValidationError`s land back on these fields."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.identity import IdNumberInvalid, id_number_parse
from accounts.models import EmploymentStatus, Housing, User
from accounts.services.customers import MAX_EMPLOYER_MONTHS, birth_date_problems


def with_currency(label):
    """The label with the currency: "Monthly income (CNY)"."""
    return format_lazy(label, currency=settings.CURRENCY)


class SignUpForm(forms.Form):
    """Step 1 of signing up: the address, which becomes the name the customer logs in with."""

    email = forms.EmailField(
        label=_("E-mail address"), max_length=User._meta.get_field("email").max_length,
        help_text=_("You will log in with it. We send you a link to finish signing up."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"}))


class SignUpConfirmForm(forms.Form):
    """Step 2, from the e-mailed link: the password. The service checks its strength."""

    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters; not only digits, not a common password."))
    password_again = forms.CharField(label=_("Password again"), strip=False,
                                     widget=forms.PasswordInput(
                                         attrs={"autocomplete": "new-password"}))

    def clean(self):
        cleaned = super().clean()
        password, again = cleaned.get("password"), cleaned.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned


class LoginForm(AuthenticationForm):
    """Django's login form; customers log in with their e-mail address, staff with a name.
    Its error for a wrong name or password is Django's, the same whether or not the name
    exists."""

    username = UsernameField(label=_("E-mail address or username"),
                             widget=forms.TextInput(attrs={"autofocus": True}))


class DateInput(forms.DateInput):
    input_type = "date"


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=120, widget=forms.TextInput(
        attrs={"autocomplete": "name"}))
    # Room for the spaces people type between groups; the service stores the 18 characters.
    id_number = forms.CharField(
        label=_("Resident identity number"), max_length=24,
        help_text=_("18 characters, as on your identity card; the last may be X."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off",
                                      "spellcheck": "false"}))
    birth_date = forms.DateField(label=_("Date of birth"), widget=DateInput(format="%Y-%m-%d"),
                                 help_text=_("You must be 18 or older."))
    monthly_income = forms.DecimalField(
        max_digits=18, decimal_places=2, min_value=0,
        label=with_currency(_("Monthly income ({currency})")),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    employment_status = forms.ChoiceField(label=_("Employment status"),
                                          choices=EmploymentStatus.choices)
    employer_months = forms.IntegerField(label=_("Months with current employer"), min_value=0,
                                         max_value=MAX_EMPLOYER_MONTHS, initial=0,
                                         widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    city = forms.CharField(label=_("City"), max_length=80, widget=forms.TextInput(
        attrs={"autocomplete": "address-level2"}))
    housing = forms.ChoiceField(label=_("Housing"), choices=[("", _("Choose…")), *Housing.choices])
    monthly_debt_payments = forms.DecimalField(
        max_digits=18, decimal_places=2, min_value=0, initial=0,
        label=with_currency(_("Monthly payments on other debts ({currency})")),
        help_text=_("Mortgage, car loan, credit cards and other loans together; 0 if none."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    consent_credit_check = forms.BooleanField(
        required=False, label=_("I agree to a credit check with credit bureaus."))
    consent_data_use = forms.BooleanField(
        required=False, label=_("I agree that my data is used to decide on my credit."))

    def clean_id_number(self):
        try:
            return id_number_parse(self.cleaned_data["id_number"]).number
        except IdNumberInvalid as error:
            raise forms.ValidationError(str(error)) from None

    def clean_birth_date(self):
        birth_date = self.cleaned_data["birth_date"]
        if problems := birth_date_problems(birth_date):
            raise forms.ValidationError(problems)
        return birth_date

    def clean(self):
        cleaned = super().clean()
        # The service would save a mismatch as unverified (and credit would be declined); on
        # the page it is almost always a typing mistake, so the customer is asked to fix it.
        number, birth_date = cleaned.get("id_number"), cleaned.get("birth_date")
        if number and birth_date:
            in_number = id_number_parse(number).birth_date
            if in_number != birth_date:
                self.add_error("id_number", _(
                    "This identity number belongs to someone born on %(born)s, not on the "
                    "date of birth you gave.") % {"born": f"{in_number:%Y-%m-%d}"})
        return cleaned

"""Customer forms. They parse and check what was typed; the services apply the business rules
(password strength, unique names, age) and their `ValidationError`s land back on these fields."""

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation

from accounts.models import EmploymentStatus, User
from accounts.services.customers import MAX_EMPLOYER_MONTHS, birth_date_problems


class SignUpForm(forms.Form):
    username = forms.CharField(max_length=150, help_text="Letters, digits and @ . + - _ only.",
                               widget=forms.TextInput(attrs={"autocomplete": "username",
                                                             "autocapitalize": "none"}))
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not only digits, not a common password.")
    password_again = forms.CharField(label="Password again", strip=False,
                                     widget=forms.PasswordInput(
                                         attrs={"autocomplete": "new-password"}))

    def clean(self):
        cleaned = super().clean()
        password, again = cleaned.get("password"), cleaned.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", "The two passwords differ.")
        elif password:
            # Asked here as well as in the service, so that a weak password is reported
            # together with the form's other messages rather than after them are fixed.
            candidate = User(username=cleaned.get("username", ""), email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class DateInput(forms.DateInput):
    input_type = "date"


class ProfileForm(forms.Form):
    full_name = forms.CharField(max_length=120, widget=forms.TextInput(
        attrs={"autocomplete": "name"}))
    birth_date = forms.DateField(label="Date of birth", widget=DateInput(format="%Y-%m-%d"),
                                 help_text="You must be 18 or older.")
    monthly_income = forms.DecimalField(
        max_digits=18, decimal_places=2, min_value=0,
        label=f"Monthly income ({settings.CURRENCY})",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    employment_status = forms.ChoiceField(choices=EmploymentStatus.choices)
    employer_months = forms.IntegerField(label="Months with current employer", min_value=0,
                                         max_value=MAX_EMPLOYER_MONTHS, initial=0,
                                         widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    city = forms.CharField(max_length=80, widget=forms.TextInput(
        attrs={"autocomplete": "address-level2"}))
    consent_credit_check = forms.BooleanField(
        required=False, label="I agree to a credit check with credit bureaus.")
    consent_data_use = forms.BooleanField(
        required=False, label="I agree that my data is used to decide on my credit.")

    def clean_birth_date(self):
        birth_date = self.cleaned_data["birth_date"]
        if problems := birth_date_problems(birth_date):
            raise forms.ValidationError(problems)
        return birth_date

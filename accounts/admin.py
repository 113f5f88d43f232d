"""Users, customer profiles and partner banks in the back office (docs/architecture.md, "Admin")."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from core.admin import ActionWithFormMixin, ViewOnlyAdmin, reason_field
from core.audit import actor_user

from .masking import identity_visible, mask_tail
from .models import (
    CustomerProfile,
    CustomerSignals,
    Merchant,
    MerchantApiClient,
    PartnerApiClient,
    PartnerBank,
    User,
)
from .services.partner_banks import EDITABLE as PARTNER_BANK_EDITABLE
from .services.partner_banks import partner_bank_update
from .services.partner_clients import partner_client_revoke, partner_client_revoked

# What the customer file (/admin/customers/<user id>/, operations/customer_file) needs; the
# lists below link to it for whoever holds these.
CUSTOMER_FILE_PERMISSIONS = ("accounts.view_customerprofile", "lending.view_loan")


def customer_file_link(user_id):
    return format_html('<a href="{}">Open</a>', reverse("admin:customer_file", args=[user_id]))


def _with_customer_file(request, columns):
    """`columns` and the customer file's link, for whoever may open it."""
    if request.user.has_perms(CUSTOMER_FILE_PERMISSIONS):
        return (*columns, "customer_file")
    return columns


def _masked(names, field, masked):
    """`names` (fields, fieldsets' fields or list columns) with `field` shown as `masked`."""
    return tuple(masked if name == field else name for name in names)


def _unsearchable(names, field):
    """`names` without `field`: a search that finds a customer by a number would confirm a
    number the officer may not read."""
    return tuple(name for name in names if name != field)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Staff without `accounts.view_unmasked_identity` see a phone number masked but for its
    last four digits, cannot change it and cannot search by it."""

    fieldsets = (
        DjangoUserAdmin.fieldsets[0],
        ("Personal info", {"fields": ("first_name", "last_name", "email", "phone")}),
        *DjangoUserAdmin.fieldsets[2:],
    )
    list_display = ("username", "email", "phone", "first_name", "last_name", "is_staff",
                    "date_joined")
    search_fields = ("username", "email", "phone", "first_name", "last_name")
    # Customers are users too: the table grows with every sign-up.
    show_full_result_count = False

    @admin.display(description="Phone")
    def phone_masked(self, obj):
        return mask_tail(obj.phone)

    @admin.display(description="Customer file")
    def customer_file(self, obj):
        return customer_file_link(obj.pk)

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        if not identity_visible(request.user):
            columns = _masked(columns, "phone", "phone_masked")
        return _with_customer_file(request, columns)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or identity_visible(request.user):
            return fieldsets
        return tuple((name, {**options, "fields": _masked(options["fields"], "phone",
                                                          "phone_masked")})
                     for name, options in fieldsets)

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "phone_masked")

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        return fields if identity_visible(request.user) else _unsearchable(fields, "phone")


@admin.register(CustomerProfile)
class CustomerProfileAdmin(ViewOnlyAdmin):
    """Read-only: a profile is what the customer declared when applying, and the risk decisions
    rest on it. The customer changes it on their profile page (`customer_profile_save`).

    The identity number is masked but for its last four characters, and the user's phone
    is not searchable, for staff without `accounts.view_unmasked_identity`."""

    list_display = ("full_name", "user", "city", "employment_status", "monthly_income",
                    "consent_credit_check", "consent_data_use", "created_at")
    list_filter = ("employment_status", "consent_credit_check", "consent_data_use")
    list_select_related = ("user",)
    search_fields = ("full_name", "user__username", "user__email", "user__phone", "city")
    show_full_result_count = False
    fields = ("user", "full_name", "birth_date", "monthly_income", "monthly_debt_payments",
              "employment_status", "employer_months", "city", "city_tier", "housing",
              "id_number", "identity_verified", "gender", "consent_credit_check",
              "consent_data_use", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description="Id number")
    def id_number_masked(self, obj):
        return mask_tail(obj.id_number)

    @admin.display(description="Customer file")
    def customer_file(self, obj):
        return customer_file_link(obj.user_id)

    def get_list_display(self, request):
        return _with_customer_file(request, super().get_list_display(request))

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if identity_visible(request.user):
            return fields
        return _masked(fields, "id_number", "id_number_masked")

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "id_number_masked")

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        return fields if identity_visible(request.user) else _unsearchable(fields,
                                                                           "user__phone")


@admin.register(CustomerSignals)
class CustomerSignalsAdmin(ViewOnlyAdmin):
    """Read-only: data the customer consented to share, as it was received."""

    list_display = ("user", "observed_on", "shopping_orders_per_month", "bills_on_time_share",
                    "account_age_months")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    show_full_result_count = False
    readonly_fields = [f.name for f in CustomerSignals._meta.fields]


class PartnerBankChangeForm(forms.ModelForm):
    reason = reason_field("Reason for the change")

    class Meta:
        model = PartnerBank
        fields = PARTNER_BANK_EDITABLE


@admin.register(PartnerBank)
class PartnerBankAdmin(admin.ModelAdmin):
    """A bank's name and whether it is active (an inactive bank funds no new loans and its API
    clients are refused) change through `partner_bank_update`, with a reason."""

    list_display = ("code", "name", "funding_share", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    form = PartnerBankChangeForm
    fields = ("code", "funding_share", "created_at", *PARTNER_BANK_EDITABLE, "reason")
    # The ledger names the bank's accounts after its code, and its share splits every loan's
    # money, so neither is edited here.
    readonly_fields = ("code", "funding_share", "created_at")

    def has_add_permission(self, request):
        # A bank needs its ledger accounts: `lending.services.partner_bank_create` makes both.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        partner_bank_update(bank_id=obj.pk, reason=form.cleaned_data["reason"],
                            actor=actor_user(request.user),
                            changes={name: form.cleaned_data[name] for name in form.changed_data
                                     if name in PARTNER_BANK_EDITABLE})
        obj.refresh_from_db()


class RevokeClientForm(forms.Form):
    reason = reason_field(kept_with="the revocation")


@admin.register(PartnerApiClient)
class PartnerApiClientAdmin(ActionWithFormMixin, ViewOnlyAdmin):
    """Credentials are issued by `manage.py create_partner_client`, which makes the OAuth2
    application and this link together and shows the secret once; the link is never re-pointed
    at another bank here. "Revoke…" stops a client at once and for good
    (`partner_client_revoke`, as `manage.py revoke_partner_client` does)."""

    list_display = ("partner_bank", "client_id", "name", "status", "created_at")
    list_filter = ("partner_bank",)
    list_select_related = ("partner_bank", "application")
    search_fields = ("partner_bank__code", "application__client_id", "application__name")
    fields = ("partner_bank", "application", "status", "created_at")
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description="Client id", ordering="application__client_id")
    def client_id(self, obj):
        return obj.application.client_id

    @admin.display(description="Name", ordering="application__name")
    def name(self, obj):
        return obj.application.name

    @admin.display(description="Status")
    def status(self, obj):
        return "revoked" if partner_client_revoked(obj.application) else "active"

    def has_revoke_permission(self, request):
        return request.user.has_perm("accounts.change_partnerapiclient")

    @admin.action(description="Revoke…", permissions=["revoke"])
    def revoke(self, request, queryset):
        """An intermediate form with the reason, then `partner_client_revoke`."""

        def revoke(api_client, data):
            done = partner_client_revoke(client_id=api_client.application.client_id,
                                         reason=data["reason"], actor=actor_user(request.user))
            return (f"The API client {done.client_id} of {api_client.partner_bank} is revoked: "
                    f"{done.access_tokens_revoked} access token(s) stopped working, and it "
                    "gets no new one.")

        def context(api_client):
            tokens = get_access_token_model().objects.filter(application=api_client.application)
            return {"revoked": partner_client_revoked(api_client.application),
                    "live_tokens": tokens.filter(expires__gt=timezone.now()).count()}

        return self.action_with_form(
            request, queryset.select_related("partner_bank", "application"), action_name="revoke",
            form_class=RevokeClientForm, template="admin/accounts/partnerapiclient/revoke.html",
            title="Revoke API client", perform=revoke, what="API client to revoke",
            context=context)


@admin.register(Merchant)
class MerchantAdmin(ViewOnlyAdmin):
    """Merchants that take pay-later (花呗) at their checkout: made by
    `accounts.services.merchants.merchant_create`, which audits them; read-only here, since
    the fee rate prices every purchase and the return URL prefixes guard where customers are
    sent."""

    list_display = ("code", "name", "fee_rate", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    fields = ("code", "name", "fee_rate", "return_url_prefixes", "is_active", "created_at")
    readonly_fields = fields


@admin.register(MerchantApiClient)
class MerchantApiClientAdmin(ViewOnlyAdmin):
    """A merchant's API clients (`merchant_client_create`): their tokens carry the checkout
    scope only and reach the merchant API only."""

    list_display = ("merchant", "client_id", "name", "created_at")
    list_filter = ("merchant",)
    list_select_related = ("merchant", "application")
    search_fields = ("merchant__code", "application__client_id", "application__name")
    fields = ("merchant", "application", "created_at")
    readonly_fields = fields

    @admin.display(description="Client id", ordering="application__client_id")
    def client_id(self, obj):
        return obj.application.client_id

    @admin.display(description="Name", ordering="application__name")
    def name(self, obj):
        return obj.application.name


# django-oauth-toolkit's own tables: only superusers see them, and nobody adds or changes a row
# there. A partner's client is made by `partner_client_create` (an application added in the
# package's admin would be refused at /o/token/ anyway) and stopped by "Revoke…" above; tokens
# come from /o/token/. The package's "Revoke selected access tokens" action stays.
class _SuperusersViewOnly:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for _model in (get_application_model(), get_access_token_model(), get_grant_model(),
               get_id_token_model(), get_refresh_token_model()):
    _package_admin = admin.site.get_model_admin(_model).__class__
    admin.site.unregister(_model)
    admin.site.register(_model, type(_package_admin.__name__, (_SuperusersViewOnly,
                                                               _package_admin), {}))

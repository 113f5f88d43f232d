"""The application form: which product to apply for (shown only when there is a choice)."""

from django import forms
from django.utils.translation import gettext_lazy as _


class ApplyForm(forms.Form):
    product = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label=_("Product"),
                                     error_messages={"invalid_choice": _("Choose one of the "
                                                                         "products shown.")})

    def __init__(self, *args, products, **kwargs):
        """`products`: the products open for application, already read (the apply POST is
        on the decision's hot path, so the form asks the database nothing more)."""
        super().__init__(*args, **kwargs)
        self.products = {product.pk: product for product in products}
        field = self.fields["product"]
        field.choices = [(product.pk, product.name) for product in products]
        if len(products) == 1:
            # Nothing to choose: the one product travels as a hidden field.
            field.widget = forms.HiddenInput()
            field.initial = products[0].pk

    def clean_product(self):
        return self.products[self.cleaned_data["product"]]

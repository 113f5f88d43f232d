"""The application form: which product to apply for (shown only when there is a choice)."""

from django import forms


class ApplyForm(forms.Form):
    product = forms.ModelChoiceField(queryset=None, empty_label=None, widget=forms.RadioSelect,
                                     label="Product",
                                     error_messages={"invalid_choice": "Choose one of the "
                                                                       "products shown."})

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["product"]
        field.queryset = products
        choices = list(products)
        if len(choices) == 1:
            # Nothing to choose: the one product travels as a hidden field.
            field.widget = forms.HiddenInput()
            field.initial = choices[0].pk

"""The customer's form asking for more time on a loan (困难申请). The service checks the same
bounds again (`debt_collection.services.hardship`); here they become messages by each field."""

from django import forms

from .models import (
    HARDSHIP_MONTHS_MAX,
    HARDSHIP_SITUATION_MAX,
    HardshipKind,
    HardshipReason,
)


class HardshipRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label="What would help",
        choices=[(HardshipKind.EXTENSION, "A longer term, with smaller instalments"),
                 (HardshipKind.PAUSE, "A pause in my payments")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose an extension or a pause."})
    months_asked = forms.TypedChoiceField(
        label="For how many months", coerce=int,
        choices=[(n, f"{n} month{'s' if n != 1 else ''}")
                 for n in range(1, HARDSHIP_MONTHS_MAX + 1)],
        error_messages={"required": f"Ask for 1 to {HARDSHIP_MONTHS_MAX} months.",
                        "invalid_choice": f"Ask for 1 to {HARDSHIP_MONTHS_MAX} months."})
    reason = forms.ChoiceField(
        label="Why", choices=HardshipReason.choices, widget=forms.RadioSelect,
        error_messages={"required": "Choose the reason closest to yours."})
    situation = forms.CharField(
        label="Your situation", max_length=HARDSHIP_SITUATION_MAX,
        # A narrow box fits a phone; the site's stylesheet sets no width for text areas.
        widget=forms.Textarea(attrs={"rows": 6, "cols": 30}),
        help_text=(f"What has happened, and what you can pay for now. At most "
                   f"{HARDSHIP_SITUATION_MAX} characters; only our officers read it."),
        error_messages={
            "required": "Tell us in a few words what has happened.",
            "max_length": f"Please keep it to {HARDSHIP_SITUATION_MAX} characters.",
        })

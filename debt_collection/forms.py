"""The customer's form asking for more time on a loan (困难申请). The service checks the same
bounds again (`debt_collection.services.hardship`); here they become messages by each field."""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from .models import (
    HARDSHIP_MONTHS_MAX,
    HARDSHIP_SITUATION_MAX,
    HardshipKind,
    HardshipReason,
)

MONTHS_ASKED = format_lazy(_("Ask for 1 to {most} months."), most=HARDSHIP_MONTHS_MAX)


class HardshipRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What would help"),
        choices=[(HardshipKind.EXTENSION, _("A longer term, with smaller instalments")),
                 (HardshipKind.PAUSE, _("A pause in my payments"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose an extension or a pause.")})
    months_asked = forms.TypedChoiceField(
        label=_("For how many months"), coerce=int,
        choices=[(n, ngettext_lazy("%(months)d month", "%(months)d months", n) % {"months": n})
                 for n in range(1, HARDSHIP_MONTHS_MAX + 1)],
        error_messages={"required": MONTHS_ASKED, "invalid_choice": MONTHS_ASKED})
    reason = forms.ChoiceField(
        label=_("Why"), choices=HardshipReason.choices, widget=forms.RadioSelect,
        error_messages={"required": _("Choose the reason closest to yours.")})
    situation = forms.CharField(
        label=_("Your situation"), max_length=HARDSHIP_SITUATION_MAX,
        # A narrow box fits a phone; the site's stylesheet sets no width for text areas.
        widget=forms.Textarea(attrs={"rows": 6, "cols": 30}),
        help_text=format_lazy(_("What has happened, and what you can pay for now. At most "
                                "{most} characters; only our officers read it."),
                              most=HARDSHIP_SITUATION_MAX),
        error_messages={
            "required": _("Tell us in a few words what has happened."),
            "max_length": format_lazy(_("Please keep it to {most} characters."),
                                      most=HARDSHIP_SITUATION_MAX),
        })

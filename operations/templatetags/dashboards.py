"""The dashboards on the admin index, each for whoever may read what it shows."""

from django import template

from core.calendar import business_date_today

from ..dashboards import figures

register = template.Library()

# What a user must hold to see each dashboard: the risk figures read loans and decisions, the
# collections figures the collection cases, the model monitoring the score distributions.
RISK_PERMISSIONS = ("lending.view_loan", "risk.view_creditdecision")
COLLECTIONS_PERMISSIONS = ("debt_collection.view_collectioncase",)
MODELS_PERMISSIONS = ("risk.view_scoredistribution",)


@register.simple_tag(takes_context=True)
def dashboards(context) -> list[figures.Dashboard]:
    """The dashboards the request's user may see, in the order the index shows them."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_active or not user.is_staff:
        return []
    today = business_date_today()
    shown = []
    if user.has_perms(RISK_PERMISSIONS):
        shown.append(figures.risk_dashboard(today))
    if user.has_perms(COLLECTIONS_PERMISSIONS):
        # Collections staff without the risk dashboard see the book by bucket here instead.
        shown.append(figures.collections_dashboard(today, with_book=not shown))
    if user.has_perms(MODELS_PERMISSIONS):
        shown.append(figures.models_dashboard(today))
    return shown

"""The models' drift alerts on the admin index, for whoever may look at the models."""

from django import template

from ..services.model_watch import drift_alerts

register = template.Library()


@register.simple_tag(takes_context=True)
def model_drift_alerts(context):
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.has_perm("risk.view_modelversion"):
        return []
    return drift_alerts()

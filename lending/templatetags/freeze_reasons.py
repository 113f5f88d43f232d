"""`{{ line.freeze_reason|freeze_reason }}`: a frozen line's reason as the customer reads it,
translated when the overdue rule wrote it (lending/services/freezes.py)."""

from django import template

from ..services.freezes import freeze_reason_text

register = template.Library()
register.filter("freeze_reason", freeze_reason_text)

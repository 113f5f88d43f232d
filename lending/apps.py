from django.apps import AppConfig


def _money_has_moved():
    from .models import JournalEntry

    return "money has moved on this book." if JournalEntry.objects.exists() else None


class LendingConfig(AppConfig):
    name = "lending"
    verbose_name = "Lending"

    def ready(self):
        from core.calendar import business_date_reset_guard_register

        from .approvals import approval_kinds_register

        # Moving the calendar under booked money would falsify every date in the book.
        business_date_reset_guard_register(_money_has_moved)
        # The officer's actions a second officer approves above the thresholds.
        approval_kinds_register()

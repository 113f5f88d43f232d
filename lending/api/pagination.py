from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class LoanCursorPagination(CursorPagination):
    """Newest loans first. A cursor holds a position, not an offset, so a bank walking its
    pages sees no loan twice and misses none while new loans are booked."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    page_size_query_description = "Loans per page: 1 to 200, 50 when not given."

    def get_page_size(self, request):
        # DRF falls back to the default on a value it cannot read; say so instead, as the
        # filters do. A size above the maximum is capped, which the `next` link makes plain.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: [
                f"Must be a whole number from 1 to {self.max_page_size}."]})
        return min(int(raw), self.max_page_size)

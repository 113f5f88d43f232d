import re

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

# ASCII digits only: str.isdigit() is also true of "²" or "①", which int() refuses.
_DIGITS = re.compile(r"[0-9]+")
# A cursor's position is the id of a loan at the edge of a page (the ordering is by id).
_POSITION = re.compile(r"[0-9]{1,19}")


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
        digits = raw.lstrip("0")
        if not _DIGITS.fullmatch(raw) or not digits:
            raise ValidationError({self.page_size_query_param: [
                f"Must be a whole number from 1 to {self.max_page_size}."]})
        # Capped before int(), which refuses a string of more than 4300 digits.
        if len(digits) > len(str(self.max_page_size)):
            return self.max_page_size
        return min(int(digits), self.max_page_size)

    def decode_cursor(self, request):
        # DRF checks a cursor's offset and direction but passes its position to the query as
        # it is, so a forged position that is not an id was a 500. It is a 404, as DRF answers
        # any other invalid cursor.
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None and not _POSITION.fullmatch(
                cursor.position):
            raise NotFound(self.invalid_cursor_message)
        return cursor

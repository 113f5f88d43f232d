"""Searching big tables by number without a cast no index can serve."""

# Postgres bigint: a longer number typed into a search box must not reach the database.
LARGEST_ID = 2**63 - 1


def id_from(term):
    term = term.strip()
    # isascii: "²" is a digit to str.isdigit but not a number to int().
    if term.isascii() and term.isdigit() and int(term) <= LARGEST_ID:
        return int(term)
    return None


class ByLoanNumberSearch:
    """Search a big table by loan number through the loan_id index.

    Django's own `=loan__id` search would fail on a term that is not a number, and
    `loan__id__exact` casts every row's id to text, which no index can serve."""

    search_fields = ("loan__id",)
    search_help_text = "Loan number"

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        loan_id = id_from(search_term)
        if loan_id is None:
            return queryset.none(), False
        return queryset.filter(loan_id=loan_id), False

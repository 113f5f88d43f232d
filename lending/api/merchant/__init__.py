"""The merchant API (/api/v1/merchant/): a merchant's back end creates checkouts for its orders,
reads their state and refunds their purchases, with an OAuth2 client-credentials token that
carries the `checkout` scope. A merchant sees its own checkouts only."""

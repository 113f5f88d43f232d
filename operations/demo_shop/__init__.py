"""The demo merchant shop (/demo-shop/, only when settings.DEMO_SHOP is on): a merchant's site
as a merchant would build it, to show the pay-later checkout end to end in `make run`. It
knows nothing of the platform's insides: it signs in to the merchant API over HTTP with its
client credentials and creates, reads and refunds checkouts there, as any merchant's back end
does (`client.py`)."""

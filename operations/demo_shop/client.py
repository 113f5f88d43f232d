"""The demo shop's back end calling the merchant API over HTTP, as a merchant's server would:
a client-credentials token from /o/token/ (kept in the cache until shortly before it expires),
then JSON requests with the bearer token. The platform's address is the one the shop's own
page was served from (the demo serves both)."""

import json
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

TOKEN_CACHE_KEY = "demo-shop:access-token"
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: dict


class MerchantApiError(Exception):
    """The API refused (or could not be reached): the status and its reason, for the page."""

    def __init__(self, status, detail):
        super().__init__(f"{status}: {detail}")
        self.status, self.detail = status, detail


def _send(url, *, data=None, headers=None, method="GET") -> ApiAnswer:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return ApiAnswer(response.status, json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as error:
        try:
            body = json.loads(error.read() or b"{}")
        except ValueError:
            body = {}
        return ApiAnswer(error.code, body)
    except (urllib.error.URLError, TimeoutError) as error:
        raise MerchantApiError(0, f"The platform could not be reached: {error}") from None


def _token(base_url) -> str:
    token = cache.get(TOKEN_CACHE_KEY)
    if token:
        return token
    pair = ":".join(
        urllib.parse.quote(part, safe="")
        for part in (settings.DEMO_SHOP_CLIENT_ID, settings.DEMO_SHOP_CLIENT_SECRET)
    )
    answer = _send(
        f"{base_url}/o/token/",
        data=urllib.parse.urlencode({"grant_type": "client_credentials"}).encode(),
        headers={
            "Authorization": "Basic " + b64encode(pair.encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        method="POST",
    )
    if answer.status != 200:
        raise MerchantApiError(
            answer.status,
            answer.body.get(
                "error_description",
                "The shop's API client was refused: run `manage.py seed_demo`, which makes it.",
            ),
        )
    token = answer.body["access_token"]
    # Kept a minute less than it lives, so that it never expires between cache and use.
    cache.set(TOKEN_CACHE_KEY, token, max(answer.body.get("expires_in", 3600) - 60, 1))
    return token


def _call(base_url, method, path, payload=None, headers=None) -> dict:
    data = None
    if payload is not None:
        data = json.dumps(payload).encode()
    for attempt in (1, 2):
        all_headers = {
            "Authorization": f"Bearer {_token(base_url)}",
            "Accept": "application/json",
            **(headers or {}),
        }
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        answer = _send(
            f"{base_url}/api/v1/merchant/{path}", data=data, headers=all_headers, method=method
        )
        if answer.status != 401 or attempt == 2:
            break
        # Revoked or expired early (or issued by a database since reset): once more with a new
        # token, as a merchant's server would.
        cache.delete(TOKEN_CACHE_KEY)
    if answer.status >= 300:
        raise MerchantApiError(answer.status, _reason(answer.body))
    return answer.body


def _reason(body) -> str:
    """A refusal's reason: DRF's `detail`, or each field named with its reasons."""
    if "detail" in body:
        return str(body["detail"])
    parts = []
    for field, reasons in body.items():
        reasons = reasons if isinstance(reasons, list) else [reasons]
        parts.append(f"{field}: {' '.join(map(str, reasons))}")
    return "; ".join(parts) or "no reason given"


def checkout_create(
    base_url, *, amount, order_reference, description, return_url, idempotency_key
) -> dict:
    return _call(
        base_url,
        "POST",
        "checkouts/",
        {
            "amount": amount,
            "order_reference": order_reference,
            "description": description,
            "return_url": return_url,
        },
        headers={"Idempotency-Key": idempotency_key},
    )


def checkout_read(base_url, token) -> dict:
    return _call(base_url, "GET", f"checkouts/{urllib.parse.quote(token, safe='')}/")


def checkout_refund(base_url, token, *, amount, reference) -> dict:
    return _call(
        base_url,
        "POST",
        f"checkouts/{urllib.parse.quote(token, safe='')}/refunds/",
        {"amount": amount, "reference": reference},
    )

"""Settings shared by every environment. Everything that differs between machines comes from
the environment, with defaults that are safe on a developer's laptop."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "local-development-only-not-secret")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "oauth2_provider",
    "pgtrigger",
    "axes",
    "csp",
    "django_celery_beat",
    "core",
    "accounts",
    "lending",
    "risk",
    "debt_collection",
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # High up, so that responses made by the middleware below (a bad host's 400) carry it too.
    "csp.middleware.CSPMiddleware",
    # Above sessions and CSRF, so that on the way out it sees the cookies they set.
    "core.middleware.PrivatePagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware (Django's order): the language from the
    # language cookie, else the browser's Accept-Language, else LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Needs request.user: a signed-in customer's kept language wins over the browser's, and
    # the back office and the partner API stay English (accounts.middleware).
    "accounts.middleware.CustomerLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.business_date",
            ],
        },
    },
]

# No DATABASE_URL: an embedded SQLite file in var/, so the product runs with no services.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
# Money-moving services open their own durable transactions (docs/architecture.md).
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# django-pgtrigger runs every trigger through _pgtrigger_should_ignore(), which reads the
# pgtrigger.ignore setting inside BEGIN ... EXCEPTION. Unset (or '' after a pgtrigger.ignore()
# block) the read raises, and the aborted subtransaction costs a scan of the transaction's
# deferred-trigger queue: quadratic in a large close. An empty list set per connection is
# read without raising; pgtrigger.ignore() still works (it sets the value per transaction and
# resets to this one).
if DATABASES["default"].get("ENGINE") in {"django.db.backends.postgresql",
                                         "django.contrib.gis.db.backends.postgis"}:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c pgtrigger.ignore={{}}".strip()
    # No JIT compilation: our queries are short, and a misjudged row count once made the
    # planner spend seconds compiling a plan for an UPDATE of a few thousand rows.
    _options["options"] += " -c jit=off"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes checks every login (customer and admin alike) before Django's own backend.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Customers read every page and notice in English or Simplified Chinese (README, "Languages");
# English when the browser asks for neither. The translations are locale/<language>/
# LC_MESSAGES/django.po, compiled by tools/compile_messages.py. Staff pages and the partner
# API stay English (accounts.middleware).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates, amounts and number grouping per language: config/formats/<language>/formats.py
# overrides the few of Django's formats we want otherwise (5 Dec 2026; 2026年12月5日).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CURRENCY = os.environ.get("CURRENCY", "CNY")

# Redis, when given, is Celery's broker and Django's cache; without it tasks run in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# The close's tasks have a queue of their own, so that a night's chunks never wait behind the
# e-mail its notices queue: run `celery -A config worker -Q close,celery` (or dedicated close
# workers with `-Q close`).
CELERY_TASK_ROUTES = {"operations.tasks.*": {"queue": "close"}}
# The beat schedule lives in the database (django-celery-beat), editable in the admin without a
# deploy; operations' migration 0003 seeds it with the nightly close.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# How many ids one chunk of a close step covers: thousands, so a chunk's transaction is short
# (a repayment waits at most for one) while the per-task overhead stays small.
CLOSE_CHUNK_SIZE = int(os.environ.get("CLOSE_CHUNK_SIZE", "5000"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Partner bank API",
    "DESCRIPTION": "Loans co-funded by a partner bank. OAuth2 client credentials.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Tags and operation ids from the resource ("loans"), not the version segment.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # The security scheme banks use: a token from /o/token/ for their client id and secret.
    "OAUTH2_FLOWS": ["clientCredentials"],
    "OAUTH2_TOKEN_URL": "/o/token/",
    # This schema is the partner banks'; the merchants' (/api/merchant/schema/) names its own.
    "OAUTH2_SCOPES": {"loans:read": "Read the loans this bank funds"},
    # Loans and instalments both have a `status`; name their enums instead of hashing them.
    "ENUM_NAME_OVERRIDES": {
        "LoanStatusEnum": "lending.models.LoanStatus",
        "InstalmentStatusEnum": "lending.models.InstalmentStatus",
    },
}
OAUTH2_PROVIDER = {
    # The client-credentials grant only, for partner banks' clients only (accounts.oauth):
    # oauthlib's server for it has the token, revocation and bearer-token endpoints and no
    # other grant (no authorization code, refresh token, password or device code).
    "OAUTH2_SERVER_CLASS": "oauthlib.oauth2.BackendApplicationServer",
    "OAUTH2_VALIDATOR_CLASS": "accounts.oauth.PartnerOAuth2Validator",
    # Each kind of client holds only its own (accounts.oauth.client_scopes): partner banks
    # `loans:read`, merchants `checkout`.
    "SCOPES": {"loans:read": "Read the loans this bank funds",
               "checkout": "Create checkouts, read them and refund their purchases"},
    "DEFAULT_SCOPES": ["loans:read"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "PKCE_REQUIRED": True,
    # A 403 for a missing scope names the scope needed.
    "ERROR_RESPONSE_WITH_SCOPES": True,
    # Partner banks only use client credentials, so every RFC 9700 (OAuth 2.0 Security
    # BCP) behaviour is switched to its compliant form now rather than at 4.0: no implicit
    # or password grants, PKCE S256 only, tokens never in a query string, hashed at rest.
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    **{
        f"COMPLIANT_BCP_RFC9700_{gate}": True
        for gate in (
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "TOKEN_STORAGE",
            "REFRESH_TOKEN",
            "REDIRECT_URI_SCHEME",
            "REDIRECT_URI_MATCHING",
            "PKCE_REQUIRED",
        )
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
# Named explicitly because accounts.PartnerApiClient points at it (django-oauth-toolkit's
# swappable model); this is its default value.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"

# LoanFunding's one-share-per-funder constraint treats "no bank" (the platform) as one value;
# SQLite cannot express that, so the embedded demo database goes without it. PostgreSQL has it.
SILENCED_SYSTEM_CHECKS = ["models.W047"]

# How often (seconds) a serving process checks whether a new champion model was promoted;
# between checks it scores with the model it has loaded.
RISK_CHAMPION_RECHECK_SECONDS = float(os.environ.get("RISK_CHAMPION_RECHECK_SECONDS", "2"))
# Calibrated PD cut-offs between grades A|B, B|C, C|D, D|E; each trained model keeps its copy.
RISK_GRADE_CUTOFFS = [0.03, 0.06, 0.12, 0.25]

# The instant credit decision (risk.policy, risk.services.decisions). Debt-to-income: monthly
# payments on other debts over monthly income must stay below this bound; per product code in
# the second setting (a dict), which overrides the first.
RISK_MAX_DEBT_TO_INCOME = os.environ.get("RISK_MAX_DEBT_TO_INCOME", "0.5")
RISK_MAX_DEBT_TO_INCOME_BY_PRODUCT: dict[str, str] = {}
# Applicants are adults on the business date and no older than this.
RISK_MAX_AGE = int(os.environ.get("RISK_MAX_AGE", "70"))
# After a decline, a new application for the same product is refused for this many days; after
# an approval, for the second number of days (one open application at a time).
RISK_REAPPLY_DAYS = int(os.environ.get("RISK_REAPPLY_DAYS", "30"))
RISK_REAPPLY_AFTER_APPROVAL_DAYS = int(os.environ.get("RISK_REAPPLY_AFTER_APPROVAL_DAYS", "7"))
# A declared monthly income that moved by more than this share of the figure the customer's
# last decision used is not believed until an officer verifies it: the decision uses the lower
# of the two (risk.income).
RISK_INCOME_CHANGE_RATIO = os.environ.get("RISK_INCOME_CHANGE_RATIO", "0.3")
# An approved offer can be accepted for this many days after the decision.
RISK_OFFER_VALID_DAYS = int(os.environ.get("RISK_OFFER_VALID_DAYS", "30"))

# Pay-later checkout (lending.services.checkout): minutes a merchant's checkout waits for the
# customer before it expires.
CHECKOUT_EXPIRES_MINUTES = int(os.environ.get("CHECKOUT_EXPIRES_MINUTES", "30"))
# The demo merchant shop at /demo-shop/ (operations.demo_shop): on in the local settings that
# `make run` uses, off everywhere else. It signs in to the merchant API with the demo merchant's
# client, which `seed_demo` makes with these credentials (operations.demo_merchant), and sends
# customers back to pages under these origins (where the demo is served).
DEMO_SHOP = env_bool("DEMO_SHOP", False)
DEMO_SHOP_CLIENT_ID = os.environ.get("DEMO_SHOP_CLIENT_ID", "demo-shop")
DEMO_SHOP_CLIENT_SECRET = os.environ.get("DEMO_SHOP_CLIENT_SECRET", "demo-shop-secret-2026")
DEMO_SHOP_ORIGINS = [origin.strip().rstrip("/") for origin in os.environ.get(
    "DEMO_SHOP_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000").split(",")
    if origin.strip()]

# Logins: lockout after repeated failures (django-axes) and session lifetime. ---------------------
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
# Failures count per login name only, wherever they come from: an attacker rotating IP
# addresses (or user agents) gets no more guesses at one account than from one address. The
# price: anyone who knows a login name can lock its owner out for the cool-off by typing wrong
# passwords, and the owner cannot log in meanwhile, not even with the right password. Staff can
# unlock sooner (README, "Logins"). Not per IP address as well: customers on mobile networks
# share carrier-grade NAT addresses, and behind a proxy not declared below every client has the
# proxy's address, so an IP lockout would lock crowds of strangers out at once (axes' warning
# W006 about that is silenced below). Spraying one password over many names from one address is
# for a rate limit at the proxy. Names count in any letter case, as logins match them.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "accounts.views.login_attempt_name"
# Minutes a lockout lasts (axes reads a number as hours).
AXES_COOLOFF_TIME = int(os.environ.get("AXES_COOLOFF_MINUTES", "30")) / 60
# Tries while locked out are refused without counting: the lockout ends a cool-off after the
# failure that caused it, however often the owner (or the attacker) tries meanwhile.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A successful login clears the name's failures, so a few typos spread over weeks never add up.
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"  # a page, HTTP 429
AXES_CLIENT_IP_CALLABLE = "accounts.views.login_client_ip"
# The client's address in the login records: behind N proxies that each append to
# X-Forwarded-For (1 behind one TLS-terminating proxy), the entry the outermost proxy wrote; with
# 0 it is REMOTE_ADDR and the header, which any client can forge, is ignored. The same variable
# as the API's throttles read.
LOGIN_TRUSTED_PROXY_COUNT = int(os.environ.get("NUM_PROXIES", "0"))
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "axes.W006"]
# Who a locked-out customer or one who signed up twice should contact; shown on pages and mail.
SUPPORT_CONTACT = os.environ.get("SUPPORT_CONTACT", "customer service")
# A session lasts 12 hours from login unless set (seconds), for customers and staff alike;
# SESSION_EXPIRE_AT_BROWSER_CLOSE=true also ends it when the browser closes (mobile browsers
# seldom close, so the age is what really bounds it). Django gives a new session key at login.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 60 * 60)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
# Sign-up links go by e-mail: printed on the console unless a backend is set (production sets
# SMTP; EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS configure it).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "no-reply@localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# The partner API's throttles (DRF). -------------------------------------------------------------
# A rate is "<requests>/<period>", the period second, minute, hour or day. Past a rate the
# answer is a 429 with Retry-After (docs/partner-api.md, "Rate limits"). API calls count
# against the OAuth client behind the token (api_client), or against the signed-in user or,
# with neither, the caller's address (api_user: the public schema). POSTs to /o/token/,
# /o/revoke_token/ and /o/introspect/ count against the client id they name (oauth_client) and
# the caller's address (oauth_address), before any secret is checked (accounts.oauth). The
# counters live in the default cache: Redis when REDIS_URL is set, shared by every process;
# without it each process counts on its own.


def env_rate(name, default):
    import re

    from django.core.exceptions import ImproperlyConfigured

    value = os.environ.get(name, default).strip()
    if not re.fullmatch(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name} must be a rate such as 60/minute, not {value!r}.")
    return value


REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "lending.api.throttling.OAuthClientRateThrottle",
    "lending.api.throttling.UserRateThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "api_client": env_rate("API_RATE_PER_CLIENT", "60/minute"),
    "api_user": env_rate("API_RATE_PER_USER", "60/minute"),
    "oauth_client": env_rate("OAUTH_RATE_PER_CLIENT", "20/minute"),
    "oauth_address": env_rate("OAUTH_RATE_PER_ADDRESS", "60/minute"),
}
# The caller's address for the throttles: with 0, REMOTE_ADDR, and X-Forwarded-For (which any
# caller can write) is ignored. Behind N reverse proxies that each append to X-Forwarded-For,
# set N: the address is then the one the outermost proxy saw.
REST_FRAMEWORK["NUM_PROXIES"] = int(os.environ.get("NUM_PROXIES", "0"))

# Response headers: Content-Security-Policy (django-csp) and caching of private pages. ----------
# Every page (customer pages, the admin, the API) gets this policy from csp.middleware (django-csp
# 4.0's format). Scripts, styles, fonts and fetches come from our own origin only: the templates
# have no inline <script>, no style="" and no on*= handlers, and the Django admin's scripts are
# files too (it passes its data in data- attributes); tests/test_headers.py checks both. Images
# may also be data: URLs (the blank favicon in base.html). No plugins, no <base> elsewhere, forms
# post only to us, and no site may frame a page (clickjacking; X-Frame-Options says it too).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Pages no browser or proxy may store, whoever asks (core.middleware.PrivatePagesMiddleware):
# URL names, or "namespace:" for all of a namespace. Besides these, every response to a
# signed-in user, to a request with session data or an Authorization header, or that sets a
# cookie is `Cache-Control: no-store, private`. Anonymous public pages stay cacheable.
PRIVATE_URL_NAMES = ["admin:", "oauth2_provider:", "login", "logout", "signup", "signup-confirm"]

# Customer notices (accounts.services.notices): shown in the inbox, e-mailed through
# EMAIL_BACKEND above by Celery after commit. Text messages go through SMS_BACKEND (accounts.sms),
# a dotted path to a backend class; None sends none. No provider is wired yet:
# "accounts.sms.ConsoleSmsBackend" prints them, "accounts.sms.LocmemSmsBackend" keeps them.
SMS_BACKEND = os.environ.get("SMS_BACKEND") or None
# The header's unread count.
TEMPLATES[0]["OPTIONS"]["context_processors"].append("accounts.context_processors.notices")

# Maker-checker (core.approvals, lending/approvals.py): an officer's action above these is only
# requested by its maker and takes effect when a second officer approves it. A limit change of
# more than LIMIT_CHANGE_SHARE of the old limit or more than LIMIT_CHANGE_AMOUNT; a term
# extension of more than EXTENSION_MONTHS months; a penalty waiver above WAIVER_AMOUNT; a write-off
# by hand of more principal than WRITE_OFF_AMOUNT. Amounts and shares are decimal strings.
MAKER_CHECKER = {
    "LIMIT_CHANGE_SHARE": os.environ.get("MAKER_CHECKER_LIMIT_CHANGE_SHARE", "0.30"),
    "LIMIT_CHANGE_AMOUNT": os.environ.get("MAKER_CHECKER_LIMIT_CHANGE_AMOUNT", "20000"),
    "EXTENSION_MONTHS": int(os.environ.get("MAKER_CHECKER_EXTENSION_MONTHS", "6")),
    "WAIVER_AMOUNT": os.environ.get("MAKER_CHECKER_WAIVER_AMOUNT", "500"),
    "WRITE_OFF_AMOUNT": os.environ.get("MAKER_CHECKER_WRITE_OFF_AMOUNT", "10000"),
}

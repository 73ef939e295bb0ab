"""Settings, all read from the environment (README "Configuration" lists every variable).

There is one settings module: development, demo and production differ only by environment.
Malformed values stop start-up with ImproperlyConfigured naming the variable; missing ICWS
credentials are reported by system checks (``dashboard.E00x``) so ``manage.py check`` shows them.
"""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from dashboard.env import (
    env_bool,
    env_choice,
    env_float,
    env_http_url,
    env_int,
    env_list,
    env_networks,
    env_secret,
    env_str,
    generated_secret,
    is_loopback_host,
    load_env_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DASHBOARD_VAR_DIR", str(BASE_DIR / "var")))
# The embedded default's own settings: `make run` (run_local) writes the debug and demo flags it
# runs with here, so every `manage.py` command beside it sees the same ones. The environment wins.
LOCAL_ENV_FILE = VAR_DIR / "local.env"
LOCAL_ENV_NAMES = frozenset({"DJANGO_DEBUG", "DASHBOARD_DEMO"})
load_env_file(LOCAL_ENV_FILE, LOCAL_ENV_NAMES)

DEBUG = env_bool("DJANGO_DEBUG", False)
# Demo mode: demo accounts, and the roster may be seeded from the simulator's /sim/state.
DEMO_MODE = env_bool("DASHBOARD_DEMO", False)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
_PUBLIC_HOSTS = [h for h in ALLOWED_HOSTS if not is_loopback_host(h)]
if DEBUG and _PUBLIC_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_DEBUG is on with a public host in DJANGO_ALLOWED_HOSTS "
        f"({', '.join(ALLOWED_HOSTS)}); debug pages leak settings, so serve only "
        "127.0.0.1/localhost in debug or turn DJANGO_DEBUG off"
    )
if DEMO_MODE and _PUBLIC_HOSTS:
    # Demo accounts have published passwords.
    raise ImproperlyConfigured(
        "DASHBOARD_DEMO is on with a public host in DJANGO_ALLOWED_HOSTS "
        f"({', '.join(ALLOWED_HOSTS)}); demo accounts have published passwords, so serve "
        "only 127.0.0.1/localhost in demo mode or turn DASHBOARD_DEMO off"
    )

# Debug and demo (the embedded default, loopback only: checked above) generate their own key
# under DASHBOARD_VAR_DIR on first use; production must give one.
SECRET_KEY = env_secret("DJANGO_SECRET_KEY") or (
    generated_secret(VAR_DIR / "secret_key") if DEBUG or DEMO_MODE else ""
)
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set (or DJANGO_SECRET_KEY_FILE) when DJANGO_DEBUG is off"
    )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "dashboard.ops.apps.AdminConfig",  # django.contrib.admin, open to the admin role only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "dashboard.ops",
    "dashboard.accounts",
    "dashboard.directory",
    "dashboard.presence",
    "dashboard.allocations",
    "dashboard.audit",
    "dashboard.api",
    "dashboard.board",
    "dashboard.plans",  # shift plans: scheduled and recurring moves (docs "Shift plans")
    "dashboard.approvals",
    "dashboard.activity",  # other supervisors' live activity on the board, last visits
    "dashboard.agentpage",  # /me/: an agent's campaigns and ready-for-calls
]

MIDDLEWARE = [
    "dashboard.ops.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "dashboard.ops.input_guard.RejectNulMiddleware",
    "dashboard.ops.middleware.ContentSecurityPolicyMiddleware",
    # Above: every request. A cookieless token request to /api/ goes on through
    # API_TOKEN_MIDDLEWARE only (dashboard/api/middleware.py); the rest through all below.
    "dashboard.api.middleware.TokenApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Outside LoginRequired, so it can rewrite that middleware's redirect for htmx requests.
    "dashboard.core.session_end.HtmxSessionEndMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.ops.middleware.ViewerTimezoneMiddleware",
    "dashboard.ops.middleware.ProductErrorPagesMiddleware",  # ours, not Django's, in debug too
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into a 429 page
]
# The layers after TokenApiMiddleware a cookieless token request to /api/ still runs (some of
# MIDDLEWARE's, in its order; checked at start-up): host validation, CSRF and login-required
# for any view that is not the API's (its views are exempt from both), the frame header.
API_TOKEN_MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

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
                "dashboard.board.context_processors.topbar",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'dashboard.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
        # Behind a pooler in transaction mode (PgBouncer's pool_mode = transaction) a server
        # session keeps nothing between transactions: no server-side cursors, and no prepared
        # statements (dashboard.core.prepared reads this setting and runs its reads unprepared).
        disable_server_side_cursors=env_bool("DATABASE_TRANSACTION_POOLER", False),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, but the health check asks the socket before it asks the server (a
    # round trip saved on each request; dashboard/core/postgresql/base.py says when it is safe).
    DATABASES["default"]["ENGINE"] = "dashboard.core.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("DASHBOARD_TIME_ZONE", "UTC")
# The audit page's "this shift" preset: shifts are blocks of this many hours from local
# midnight in the viewer's zone (8: 00-08, 08-16, 16-24).
DASHBOARD_SHIFT_HOURS = env_int("DASHBOARD_SHIFT_HOURS", 8)
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "staticfiles")))
# Outside debug, WhiteNoise serves them from the app server (gunicorn serves none) with hashed,
# compressed names for far-future caching; that needs `collectstatic` (the image runs it at
# build). In debug, runserver serves them from the source folders.
if not DEBUG:
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# -- security: secure by default, relaxed only by DEBUG ------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("DJANGO_BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Probes and Prometheus come over plain HTTP from inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_COOKIE_AGE", 12 * 3600, minimum=60)
# Fixed policy, no inline script or style anywhere (htmx: see docs/OPERATIONS.md).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# Error reports (debug pages, mail) also hide *_URL settings that may hold passwords.
DEFAULT_EXCEPTION_REPORTER_FILTER = "dashboard.ops.logformat.SafeExceptionReporterFilter"
# Reverse proxies whose X-Forwarded-For is believed (accounts.throttle.client_ip); empty: the
# peer address. By network, never by hop count: a count believes a client that skips the proxy.
if "DJANGO_TRUSTED_PROXY_COUNT" in os.environ:
    raise ImproperlyConfigured(
        "DJANGO_TRUSTED_PROXY_COUNT is gone: set DJANGO_TRUSTED_PROXIES to the networks of the "
        "proxies in front (e.g. 172.30.80.10/32), so a client reaching the app directly cannot "
        "choose its own address"
    )
TRUSTED_PROXIES = env_networks("DJANGO_TRUSTED_PROXIES")

# Login throttling (django-axes): a username is locked out from one address after
# LOGIN_FAILURE_LIMIT failures, for LOGIN_COOLOFF_MINUTES. Per user *and* address, so neither
# a typo-prone office behind one NAT nor someone guessing at a colleague's account locks the
# colleague out at the first few tries; past LOGIN_USERNAME_FAILURE_LIMIT failures from all
# addresses together the username is locked out everywhere (dashboard.accounts.throttle), so many
# addresses do not buy many guesses.
AUTHENTICATION_BACKENDS = [
    "dashboard.accounts.throttle.LoginThrottleBackend",
    # Local passwords (ModelBackend) as DASHBOARD_AUTH allows them, then CIC (ICWS connect).
    "dashboard.accounts.backends.LocalBackend",
    "dashboard.accounts.backends.CicBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
LOGIN_USERNAME_FAILURE_LIMIT = env_int("LOGIN_USERNAME_FAILURE_LIMIT", 20)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "dashboard.accounts.throttle.client_ip"
AXES_VERBOSE = False

# -- ICWS -------------------------------------------------------------------------------------
ICWS_BASE_URL = env_http_url("ICWS_BASE_URL", "http://127.0.0.1:8018")
ICWS_USER = env_str("ICWS_USER", "svc_dashboard" if DEMO_MODE else "")
ICWS_PASSWORD = env_secret("ICWS_PASSWORD", "svc-dashboard-demo" if DEMO_MODE else "")
ICWS_APPLICATION_NAME = env_str("ICWS_APPLICATION_NAME", "CIC Supervisor Dashboard")
ICWS_LANGUAGE = env_str("ICWS_LANGUAGE", "en-us")
ICWS_TIMEOUT = env_float("ICWS_TIMEOUT", 10.0)
# Hosts the client may fail over to (ICWS alternateHostList); others never get the password.
ICWS_ALTERNATE_HOSTS = env_list("ICWS_ALTERNATE_HOSTS")
# The CIC workgroups whose members are the dialer agents (REF 10: the campaign list does not say).
# Required outside demo mode (system check directory.E001); demo: the simulator seed's groups.
ICWS_AGENT_WORKGROUPS = env_list(
    "ICWS_AGENT_WORKGROUPS",
    "Sales Outbound,Renewals,Collections,Customer Care,Spanish Line" if DEMO_MODE else "",
)
# The ICWS listener (dashboard.presence): short-poll cadence when the server has no SSE, and how
# long without a heartbeat before presence counts as stale.
LISTENER_POLL_SECONDS = env_float("LISTENER_POLL_SECONDS", 0.5)
LISTENER_STALE_SECONDS = env_float("LISTENER_STALE_SECONDS", 15.0)
# What is observed after a move CIC accepted (dashboard/presence/observe.py): looked at once,
# this long after the job succeeded, by a beat task this often; never after the window.
OBSERVE_AFTER_SECONDS = env_float("OBSERVE_AFTER_SECONDS", 10.0)
OBSERVE_WINDOW_SECONDS = env_float("OBSERVE_WINDOW_SECONDS", 600.0)
OBSERVE_EVERY_SECONDS = env_float("OBSERVE_EVERY_SECONDS", 5.0)

# -- sign-in with CIC and the agent's page (docs/OPERATIONS.md "Sign-in with CIC") ------------
# local: Django passwords only; cic: ICWS connect as the user (local passwords only for accounts
# flagged break-glass); both: either. Checked again by the system check accounts.E001.
DASHBOARD_AUTH = env_str("DASHBOARD_AUTH", "local").strip().lower()
if DASHBOARD_AUTH not in ("local", "cic", "both"):
    raise ImproperlyConfigured(f"DASHBOARD_AUTH must be local, cic or both, got {DASHBOARD_AUTH!r}")
# Fernet keys sealing agents' kept ICWS session tokens at rest (accounts.session_seal): a comma
# list, newest first (the first seals, any opens: rotation). Required outside debug/demo when CIC
# sign-in is on; debug/demo without one generate a key under DASHBOARD_VAR_DIR.
ICWS_SESSION_KEYS = [k.strip() for k in env_secret("ICWS_SESSION_KEY").split(",") if k.strip()]
for _key in ICWS_SESSION_KEYS:
    try:
        _fernet_key = base64.urlsafe_b64decode(_key.encode("ascii"))
    except (ValueError, UnicodeError):
        _fernet_key = b""
    if len(_fernet_key) != 32:  # what cryptography's Fernet() itself demands
        raise ImproperlyConfigured(
            "ICWS_SESSION_KEY must be a comma list of Fernet keys (32 bytes in URL-safe base64, "
            '44 characters); make one with: python -c "from cryptography.fernet import Fernet; '
            f'print(Fernet.generate_key().decode())" (one of {len(ICWS_SESSION_KEYS)} is not)'
        )
if DASHBOARD_AUTH != "local" and not ICWS_SESSION_KEYS and not (DEBUG or DEMO_MODE):
    raise ImproperlyConfigured(
        f"ICWS_SESSION_KEY must be set (or ICWS_SESSION_KEY_FILE) with DASHBOARD_AUTH="
        f"{DASHBOARD_AUTH}: it seals the ICWS sessions kept for agents (docs/OPERATIONS.md, "
        "'ICWS session key')"
    )
# CIC role or workgroup names (ids or display names, any case) that make a dashboard role.
CIC_SUPERVISOR_ROLES = env_list("CIC_SUPERVISOR_ROLES", "Supervisor" if DEMO_MODE else "")
CIC_AUDITOR_ROLES = env_list("CIC_AUDITOR_ROLES", "Quality Auditor" if DEMO_MODE else "")
CIC_ADMIN_ROLES = env_list("CIC_ADMIN_ROLES")
# The applicationName of an agent's own ICWS session (kept for ready-for-calls): CIC groups a
# user's sessions of one application into one Dialer session, so a site may name its agent client.
ICWS_AGENT_APPLICATION_NAME = env_str("ICWS_AGENT_APPLICATION_NAME", ICWS_APPLICATION_NAME)
# A moved agent shows "waiting for ready-for-calls" on the board for at most this long.
READY_FOR_CALLS_WAIT_HOURS = env_int("READY_FOR_CALLS_WAIT_HOURS", 12)
# icws_check's "CIC sign-in" line connects as this test user when both are given.
ICWS_CHECK_USER = env_str("ICWS_CHECK_USER")
ICWS_CHECK_PASSWORD = env_secret("ICWS_CHECK_PASSWORD")

# -- allocation engine -------------------------------------------------------------------------
ALLOCATION_BATCH_SIZE = env_int("ALLOCATION_BATCH_SIZE", 100)
ALLOCATION_MAX_AGENTS = env_int("ALLOCATION_MAX_AGENTS", 5000)
ALLOCATION_MAX_ATTEMPTS = env_int("ALLOCATION_MAX_ATTEMPTS", 5)
ALLOCATION_RETRY_BASE_SECONDS = env_float("ALLOCATION_RETRY_BASE_SECONDS", 2.0)
ALLOCATION_RETRY_CAP_SECONDS = env_float("ALLOCATION_RETRY_CAP_SECONDS", 60.0)
ALLOCATION_LEASE_SECONDS = env_float("ALLOCATION_LEASE_SECONDS", 120.0)
ALLOCATION_STUCK_AFTER_SECONDS = env_float("ALLOCATION_STUCK_AFTER_SECONDS", 60.0)
# Coalescing (allocations/coalesce.py): at most this many queued jobs with the same campaigns in
# and out go to ICWS as one allocate-agents call; 1 turns it off.
ALLOCATION_COALESCE_MAX = env_int("ALLOCATION_COALESCE_MAX", 20, minimum=1)
SWEEP_INTERVAL_SECONDS = env_float("SWEEP_INTERVAL_SECONDS", 30.0)
DIRECTORY_SYNC_INTERVAL_SECONDS = env_float("DIRECTORY_SYNC_INTERVAL_SECONDS", 300.0)
# Agents whose Logon Campaign right one sync reads (one ICWS GET each; directory/rights.py).
DIRECTORY_RIGHTS_READS_PER_SYNC = env_int("DIRECTORY_RIGHTS_READS_PER_SYNC", 200, minimum=0)


# -- four-eyes approval (dashboard/approvals; docs/OPERATIONS.md "Four-eyes approval") --------
def _approval_kinds(name: str, choices: tuple[str, ...]) -> frozenset[str]:
    kinds = frozenset(env_list(name))
    unknown = sorted(kinds - set(choices))
    if unknown:
        raise ImproperlyConfigured(
            f"{name} is a comma list of {', '.join(choices)} (or empty); "
            f"unknown: {', '.join(unknown)}"
        )
    return kinds


# Which moves wait for a second supervisor or an admin: "large" (more than the threshold),
# "out_of_scope" (agents outside the requester's workgroups, otherwise refused), "plan". Off
# ("") unless the site turns it on.
APPROVAL_REQUIRED_FOR = _approval_kinds("APPROVAL_REQUIRED_FOR", ("large", "out_of_scope", "plan"))
APPROVAL_THRESHOLD_AGENTS = env_int("APPROVAL_THRESHOLD_AGENTS", 50)
APPROVAL_EXPIRES_MINUTES = env_int("APPROVAL_EXPIRES_MINUTES", 60)
APPROVAL_EXPIRY_CHECK_SECONDS = env_float("APPROVAL_EXPIRY_CHECK_SECONDS", 60.0)
# Which moves must carry one of the admin's reason codes (when any is active): "all",
# "approval" (those that wait for approval), or any of the kinds above.
APPROVAL_REASON_CODE_FOR = _approval_kinds(
    "APPROVAL_REASON_CODE_FOR", ("all", "approval", "large", "out_of_scope", "plan")
)

# -- shift plans (dashboard/plans; docs/OPERATIONS.md "Shift plans") ---------------------------
# How often beat looks for due plan runs and reverts (a run starts within this of its time).
PLANS_TICK_SECONDS = env_float("PLANS_TICK_SECONDS", 15.0)
# A run found later than this after its start (beat was down) is recorded as missed, not run.
PLANS_LATE_GRACE_SECONDS = env_float("PLANS_LATE_GRACE_SECONDS", 900.0)
if PLANS_LATE_GRACE_SECONDS < 2 * PLANS_TICK_SECONDS:
    raise ImproperlyConfigured(
        f"PLANS_LATE_GRACE_SECONDS ({PLANS_LATE_GRACE_SECONDS:g}) must be at least twice "
        f"PLANS_TICK_SECONDS ({PLANS_TICK_SECONDS:g}), or a run due between two ticks is missed"
    )
# The zone a new plan's form starts with (a supervisor may pick another); an IANA name.
PLANS_DEFAULT_TIME_ZONE = env_str("PLANS_DEFAULT_TIME_ZONE", TIME_ZONE)
try:
    import zoneinfo as _zoneinfo

    _zoneinfo.ZoneInfo(PLANS_DEFAULT_TIME_ZONE)
except (ValueError, _zoneinfo.ZoneInfoNotFoundError):
    raise ImproperlyConfigured(
        f"PLANS_DEFAULT_TIME_ZONE (or DASHBOARD_TIME_ZONE) must be an IANA time zone such as "
        f"Europe/Berlin, got {PLANS_DEFAULT_TIME_ZONE!r}"
    ) from None

# -- audit log retention (docs/OPERATIONS.md "Audit retention"; 0 keeps everything) -------------
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 0, minimum=0)
AUDIT_ARCHIVE_DIR = Path(env_str("AUDIT_ARCHIVE_DIR", str(VAR_DIR / "audit-archive")))
# Signed checkpoints of the audit chain (docs/OPERATIONS.md "Tamper evidence"). The key signs
# checkpoints and export trailers; it is not Django's. Unset in debug/demo: a key generated
# under DASHBOARD_VAR_DIR; unset in production: system check error dashboard.E010.
AUDIT_SIGNING_KEY = env_secret("AUDIT_SIGNING_KEY")
AUDIT_CHECKPOINT_DIR = Path(env_str("AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints")))
AUDIT_CHECKPOINT_EVERY_ROWS = env_int("AUDIT_CHECKPOINT_EVERY_ROWS", 1000)
AUDIT_CHECKPOINT_EVERY_SECONDS = env_float("AUDIT_CHECKPOINT_EVERY_SECONDS", 60.0)
# Writers leave audit rows unchained; the chainer (dashboard.audit.chainer) links them this often.
AUDIT_CHAIN_EVERY_SECONDS = env_float("AUDIT_CHAIN_EVERY_SECONDS", 2.0)

CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-jobs": {
        "task": "dashboard.allocations.tasks.sweep_jobs_task",
        "schedule": SWEEP_INTERVAL_SECONDS,
    },
    "sync-directory": {
        "task": "dashboard.directory.tasks.sync_directory_task",
        "schedule": DIRECTORY_SYNC_INTERVAL_SECONDS,
    },
    "observe-moves": {
        "task": "dashboard.presence.tasks.observe_moves_task",
        "schedule": OBSERVE_EVERY_SECONDS,
    },
    "audit-chain": {
        "task": "dashboard.audit.tasks.audit_chain_task",
        "schedule": AUDIT_CHAIN_EVERY_SECONDS,
    },
    "audit-checkpoint": {
        "task": "dashboard.audit.tasks.audit_checkpoint_task",
        "schedule": AUDIT_CHECKPOINT_EVERY_SECONDS,
    },
    "plans-tick": {
        "task": "dashboard.plans.tasks.plans_tick_task",
        "schedule": PLANS_TICK_SECONDS,
    },
    "expire-approvals": {
        "task": "dashboard.approvals.tasks.expire_approvals_task",
        "schedule": APPROVAL_EXPIRY_CHECK_SECONDS,
    },
}

# -- operations: probes, metrics, logs (docs/OPERATIONS.md) -------------------------------------
READYZ_TIMEOUT = env_float("READYZ_TIMEOUT", 2.0)  # seconds for each /readyz check
# How long one /readyz probe's answer is reused (dashboard/ops/readiness_cache.py).
READYZ_CACHE_SECONDS = env_float("READYZ_CACHE_SECONDS", 2.0)
# How often a worker adds its ICWS call tally to the shared counts (dashboard/ops/icws_calls.py).
ICWS_CALLS_FLUSH_SECONDS = env_float("ICWS_CALLS_FLUSH_SECONDS", 10.0)
METRICS_ENABLED = env_bool("METRICS_ENABLED", True)
METRICS_TOKEN = env_secret("METRICS_TOKEN")  # if set, /metrics wants "Authorization: Bearer <it>"

LOG_LEVEL = env_str("DASHBOARD_LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        f"DASHBOARD_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {LOG_LEVEL!r}"
    )
LOG_FORMAT = env_str("DASHBOARD_LOG_FORMAT", "plain" if DEBUG else "json").lower()
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"DASHBOARD_LOG_FORMAT must be json or plain, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "dashboard.ops.logformat.ContextFilter"},
        "redact": {"()": "dashboard.ops.logformat.RedactFilter"},
    },
    "formatters": {
        "plain": {
            "()": "dashboard.ops.logformat.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s%(context)s %(message)s",
        },
        "json": {"()": "dashboard.ops.logformat.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "redact"],
            "level": LOG_LEVEL,
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers (debug-only console, mail_admins) give way to ours.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

# -- Celery ------------------------------------------------------------------------------------
# REDIS_URL (or CELERY_BROKER_URL) selects a real broker; without either, an embedded broker in a
# SQLite file under DASHBOARD_VAR_DIR needs no server (kombu's SQLAlchemy transport).
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = (
    env_str("CELERY_BROKER_URL")
    or REDIS_URL
    or (f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}")
)
CELERY_RESULT_BACKEND = None  # job state lives in AllocationJob rows, not in Celery results
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Threads, not prefork: a job is mostly waiting on PostgreSQL and ICWS, and prefork passes every
# task from the consumer to a child process and its result back (two more process hops, which
# under load cost a lone job ~10 ms of scheduling: bench/jobs.py --latency-only --worker-pool).
# Concurrency is Celery's default (the CPU count) unless --concurrency says otherwise.
CELERY_WORKER_POOL = env_choice("CELERY_WORKER_POOL", "threads", ("threads", "prefork", "solo"))
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
# Task events (for `celery events` and Flower, compose profile "flower") cost a broker publish
# per task state; off unless asked with CELERY_TASK_EVENTS=1.
CELERY_WORKER_SEND_TASK_EVENTS = env_bool("CELERY_TASK_EVENTS", False)
CELERY_TASK_SEND_SENT_EVENT = CELERY_WORKER_SEND_TASK_EVENTS
if CELERY_BROKER_URL.startswith("redis"):
    # A message unacknowledged this long is redelivered; longer than any job may run.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

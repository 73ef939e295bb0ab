"""Log formatting: request/job context on every record, secrets redacted, JSON or plain lines.

Wired in ``settings.LOGGING`` (so nothing here may import models). Django's error reports use
``SafeExceptionReporterFilter`` below.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from functools import cache

from django.views.debug import SafeExceptionReporterFilter as DjangoReporterFilter

from dashboard.core.logcontext import job_id_var, request_id_var

MASK = "***"
_KEY = r"[\w-]*(?:password|passwd|secret|csrf[_-]?token|cookie|authorization)[\w-]*"
_QUOTED = re.compile(rf"""(?i)(["']?\b{_KEY}["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*\2""")
_COOKIE_LINE = re.compile(r"""(?i)(\b(?:set-)?cookie["']?\s*[:=]\s*)(?!["'\s])[^\r\n]*""")
_BARE = re.compile(
    rf"""(?i)(\b{_KEY}\s*[:=]\s*)(?!["'\s])(?:(?:bearer|basic|token|digest)\s+)?[^\s,;&'")}}\]]+"""
)
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@")


def redact(text: str) -> str:
    """``text`` with the values of password/secret/token/cookie/authorization fields masked.

    Catches ``password=x``, ``"csrfToken": "x"``, ``Cookie: a=b; c=d``, ``Authorization: Bearer x``,
    ``redis://:x@host`` and the configured secrets themselves wherever they appear.
    """
    text = _QUOTED.sub(rf"\1\2{MASK}\2", text)
    text = _COOKIE_LINE.sub(rf"\1{MASK}", text)
    text = _BARE.sub(rf"\1{MASK}", text)
    text = _URL_PASSWORD.sub(rf"\1{MASK}@", text)
    for secret in _configured_secrets():
        text = text.replace(secret, MASK)
    return text


@cache
def _configured_secrets() -> tuple[str, ...]:
    from django.conf import settings

    values = [
        getattr(settings, "ICWS_PASSWORD", ""),
        getattr(settings, "SECRET_KEY", ""),
        getattr(settings, "METRICS_TOKEN", ""),
        *(db.get("PASSWORD", "") for db in getattr(settings, "DATABASES", {}).values()),
    ]
    # Very short values would mask ordinary words; the patterns above still catch them by key.
    return tuple(v for v in values if isinstance(v, str) and len(v) >= 6)


class ContextFilter(logging.Filter):
    """Copies the request id and job id of the current context onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.job_id = job_id_var.get()
        tags = []
        if record.request_id:
            tags.append(f"req={record.request_id}")
        if record.job_id is not None:
            tags.append(f"job={record.job_id}")
        record.context = f" [{' '.join(tags)}]" if tags else ""
        return True


class RedactFilter(logging.Filter):
    """Masks secrets in the message and the traceback before any formatter sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id[, job_id][, exc]."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        job_id = getattr(record, "job_id", None)
        if job_id is not None:
            entry["job_id"] = job_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """``time LEVEL logger [req=… job=…] message``; tolerates records the filter never saw."""

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "context"):
            record.context = ""
        return super().format(record)


class SafeExceptionReporterFilter(DjangoReporterFilter):
    """Django's filter, also hiding URLs that may hold passwords and Authorization headers.

    Django already hides settings whose names contain API, TOKEN, KEY, SECRET, PASS, SIGNATURE or
    HTTP_COOKIE (so ``ICWS_PASSWORD`` and ``METRICS_TOKEN``); ``CELERY_BROKER_URL``, ``REDIS_URL``
    and ``DATABASE_URL`` can carry a password too, and ``HTTP_AUTHORIZATION`` an API token.
    """

    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|AUTHORIZATION|BROKER_URL|REDIS_URL|"
        "DATABASE_URL",
        flags=re.IGNORECASE,
    )

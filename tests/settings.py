"""Test settings: the real settings module, fed the environment a developer machine would have.

``make test`` runs the suite twice: on SQLite, then on PostgreSQL (``TEST_DATABASE_URL``).
Integration tests use the real Redis broker at ``TEST_REDIS_URL``.
"""

import os
import tempfile

os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DASHBOARD_DEMO", "1")
os.environ.setdefault("DASHBOARD_VAR_DIR", tempfile.mkdtemp(prefix="dashboard-test-"))
os.environ.setdefault("CELERY_BROKER_URL", os.environ.get("TEST_REDIS_URL", "memory://"))
os.environ.setdefault("DASHBOARD_LOG_LEVEL", "WARNING")

from dashboard.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast test logins

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not pytest-django's shared in-memory database: the Celery worker threads of the
    # integration tests then get SQLite's real locking (WAL + busy timeout) instead of
    # "database table is locked".
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(os.environ["DASHBOARD_VAR_DIR"], "test.sqlite3")
    }

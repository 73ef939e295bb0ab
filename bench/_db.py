"""Scratch PostgreSQL databases for benchmarks and drills: made fresh, dropped afterwards."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def with_db(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def recreate(admin_url: str, name: str) -> str:
    """Drop ``name`` if it is left over from a crashed run, create it empty; returns its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return with_db(admin_url, name)


def drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def use_settings(database_url: str, **extra: str) -> None:
    """The environment a benchmark's in-process Django runs under: this database, debug and demo
    on (no secrets needed), quiet logs. ``extra`` adds or overrides variables."""
    import os

    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="1",
        DASHBOARD_DEMO="1",
        DASHBOARD_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        **extra,
    )
